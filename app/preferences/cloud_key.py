"""Under the cloud provider's settings: its API key (saved to the OS keychain, never shown again or written to
settings.json) and "Test Connection", which sends one tiny request off the UI thread and says how it went."""

from __future__ import annotations

import threading

from PySide6.QtCore import Signal
from PySide6.QtGui import QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QLineEdit, QPushButton, QVBoxLayout, QWidget

from engine.cloud.check import check_connection
from engine.cloud.keys import NoKeychain, get_key, set_key
from engine.cloud.pieces import CloudError
from engine.cloud.provider import provider_from
from engine.settings.file import Settings

OK_STYLE = "color: #2e7d32"
ERROR_STYLE = "color: #d32f2f"
HINT_STYLE = "color: palette(placeholder-text)"


class CloudKeyRow(QWidget):
    sig_checked = Signal(str, bool)
    """(what the connection test found, whether it worked): emitted from the test's thread, shown on the UI thread."""

    def __init__(self, settings: Settings) -> None:
        super().__init__()
        self._settings = settings
        self.key_edit = QLineEdit()
        self.key_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.key_edit.setPlaceholderText("API key")
        self.save_button = QPushButton("Save Key")
        self.save_button.setToolTip("Store the key in the system keychain (an empty field removes it)")
        self.save_button.clicked.connect(self.save_key)
        self.test_button = QPushButton("Test Connection")
        self.test_button.setToolTip("Send the provider one tiny request with this model and key")
        self.test_button.clicked.connect(self.test_connection)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.sig_checked.connect(self._show_check)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.key_edit, 1)
        row.addWidget(self.save_button)
        row.addWidget(self.test_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.addLayout(row)
        column.addWidget(self.status)

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 — Qt override
        super().showEvent(event)
        self.show_stored()

    def show_stored(self) -> None:
        provider = provider_from(self._settings.values)
        if provider is None:
            self._say("Set a model name to use a cloud provider.", HINT_STYLE)
            return
        try:
            stored = get_key(provider)
        except NoKeychain as e:
            self._say(str(e), ERROR_STYLE)
            return
        self.key_edit.setPlaceholderText("A key is stored in the keychain" if stored else "API key")
        self._say(f"Key for {provider.host}: {'stored in the keychain' if stored else 'none stored'}.", HINT_STYLE)

    def save_key(self) -> None:
        provider = provider_from(self._settings.values)
        if provider is None:
            self._say("Set a model name first: the key is stored for its endpoint.", ERROR_STYLE)
            return
        try:
            set_key(provider, self.key_edit.text())
        except NoKeychain as e:
            self._say(str(e), ERROR_STYLE)
            return
        self.key_edit.clear()
        self.show_stored()

    def test_connection(self) -> None:
        self.test_button.setEnabled(False)
        self._say("Testing…", HINT_STYLE)
        values = self._settings.values
        threading.Thread(target=self._check, args=(provider_from(values), values.offline), daemon=True).start()

    def _check(self, provider, offline: bool) -> None:
        try:
            self.sig_checked.emit(check_connection(provider, offline), True)
        except (CloudError, NoKeychain) as e:
            self.sig_checked.emit(str(e), False)

    def _show_check(self, text: str, ok: bool) -> None:
        self.test_button.setEnabled(True)
        self._say(text, OK_STYLE if ok else ERROR_STYLE)

    def _say(self, text: str, style: str) -> None:
        self.status.setText(text)
        self.status.setStyleSheet(style)
