"""The row above the composer that says who will answer: the conversation's mode (Local only, Auto, Cloud),
its Private switch, and, for the message being written, "Answers: Local" or "Answers: Cloud: ..., score 0.71".

The preview is the router's own decision on the text and attachments in the composer (cheap signals only,
recomputed a moment after typing stops); it opens no connection.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QTimer, Signal
from PySide6.QtGui import QHideEvent
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QWidget

from engine.cloud.route import MODE_NAMES, MODES, Route

if TYPE_CHECKING:
    from app.chat.composer import Composer
    from app.chat.session import ChatSession

HINT_STYLE = "font-size: 11px; color: palette(placeholder-text)"
CLOUD_STYLE = "font-size: 11px; color: #1565c0"
PREVIEW_DELAY_MS = 200
PRIVATE_TIP = "A private conversation is never sent to a cloud model, whatever its mode or the global default."
MODE_TIP = ("Local only: this computer's model always answers (nothing leaves it). Auto: the cloud answers requests "
            "whose complexity score reaches the threshold in Preferences ▸ Cloud. Cloud: the cloud model answers.")


class RouteBar(QWidget):
    sig_changed = Signal(str, bool)
    """The user chose a mode ("local", "auto", "cloud") or switched Private for this conversation."""
    sig_preview_due = Signal()
    """The composer's text settled: ask who would answer it (then call `show_route`)."""

    def __init__(self) -> None:
        super().__init__()
        self.mode = QComboBox()
        for mode in MODES:
            self.mode.addItem(MODE_NAMES[mode], mode)
        self.mode.setToolTip(MODE_TIP)
        self.private = QCheckBox("Private")
        self.private.setToolTip(PRIVATE_TIP)
        self.answers = QLabel()
        self.answers.setStyleSheet(HINT_STYLE)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(PREVIEW_DELAY_MS)
        self._timer.timeout.connect(self.sig_preview_due)
        row = QHBoxLayout(self)
        row.setContentsMargins(16, 4, 16, 0)
        row.addWidget(QLabel("Answered by"))
        row.addWidget(self.mode)
        row.addWidget(self.private)
        row.addWidget(self.answers, 1)
        self.mode.currentIndexChanged.connect(self._changed)
        self.private.toggled.connect(self._changed)

    def show_choice(self, mode: str, private: bool) -> None:
        """Show a conversation's mode and Private switch (without telling anyone it changed)."""
        self.blockSignals(True)
        self.mode.blockSignals(True)
        self.private.blockSignals(True)
        self.mode.setCurrentIndex(max(0, self.mode.findData(mode)))
        self.private.setChecked(private)
        self.mode.blockSignals(False)
        self.private.blockSignals(False)
        self.blockSignals(False)

    def show_route(self, route: Route) -> None:
        self.answers.setText(f"→ {route.label}")
        self.answers.setStyleSheet(CLOUD_STYLE if route.target == "cloud" else HINT_STYLE)
        self.answers.setToolTip(route.label)

    def show_waiting(self) -> None:
        """Auto with nothing written yet: each message is scored as it is typed."""
        self.answers.setText("→ Local or Cloud, by each message's score")
        self.answers.setStyleSheet(HINT_STYLE)
        self.answers.setToolTip("")

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 — Qt override
        self._timer.stop()  # the window is closing: its conversation store may be closed before the timer fires
        super().hideEvent(event)

    def text_changed(self) -> None:
        """The composer changed: preview again once the typing pauses."""
        self._timer.start()

    def _changed(self) -> None:
        self.sig_changed.emit(self.mode.currentData(), self.private.isChecked())
        self.sig_preview_due.emit()


def attach_route_bar(bar: RouteBar, session: ChatSession, composer: Composer) -> None:
    """Keep the bar, the open conversation's routing choice and the composer's preview in step."""

    def preview() -> None:
        text, files = composer.edit.toPlainText(), composer.attachments
        documents = bool(session.documents and session.documents.linked(session.conversation_id))
        if session.routing.mode == "auto" and not (text.strip() or files) and not documents:
            bar.show_waiting()
        else:
            bar.show_route(session.routing.preview(text, files, documents))

    def thread_changed() -> None:
        bar.show_choice(session.routing.mode, session.routing.private)
        preview()

    bar.sig_changed.connect(session.routing.set_choice)
    bar.sig_preview_due.connect(preview)
    composer.edit.textChanged.connect(bar.text_changed)
    session.sig_thread_changed.connect(thread_changed)
    if session.documents:
        session.documents.sig_changed.connect(preview)
    thread_changed()
