"""The Preferences window (⌘, on macOS): generation and memory settings, and the live performance view.

Every change is checked against the schema, saved at once and used from the next answer, without a
restart; a value the schema refuses is kept in its field, marked, and explained below the tabs, and
the setting keeps its previous value. The window is not modal, so it can stay open beside a chat.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.performance.view import PerformanceView
from app.preferences.apply import ENGINE_KEYS, apply_to_engine
from app.preferences.cache_files import CacheFilesRow
from app.preferences.cloud_key import CloudKeyRow
from app.preferences.draft_row import DraftRow
from app.preferences.editors import HINT_STYLE, SettingEditor, editor_for, range_hint
from app.preferences.kv_cache import kv_cache_text
from engine.settings.schema import SettingError, parse, section_keys, spec, to_text

PAGES = {
    "Generation": {
        "Sampling": "sampling",
        "Context": "context",
        "New conversations": "chat",
        "Speculative decoding": "speculative",
    },
    "Memory & Compute": {
        "MLX memory": "memory",
        "Conversation memory": "kv_cache",
        "Compute": "compute",
        "Saved prompt caches": "cache_files",
    },
    "Local API": {"Server": "server"},
    "Cloud": {"Routing": "routing", "Provider": "cloud"},
}
SWITCHES_LABELLED_BESIDE = {"upcast_on_cpu", "offline", "route_judge"}
"""Check boxes whose own text says it all (no label in the form's left column)."""
SAVED_NOTE = "Saved. Used from the next answer."
NOTES = {
    "default_system_prompt": "Saved. New conversations start with it.",
    "api_port": "Saved. Used the next time the server starts.",
    "upcast_on_cpu": "Saved. Used the next time a model is loaded.",
    "kv_cache_bits": "Saved. Used the next time a model is loaded.",
    "num_draft_tokens": "Saved. Used the next time a model with a draft model is loaded.",
    "memory_limit_gb": "Saved and applied.",
    "cache_limit_gb": "Saved and applied.",
    "prompt_cache_disk_mb": "Saved and applied.",
    "route_default": "Saved. New conversations start with it.",
    "cloud_model": "Saved. Store this endpoint's key below if it has none yet.",
    "cloud_base_url": "Saved. Store this endpoint's key below if it has none yet.",
}
ERROR_STYLE = "color: #d32f2f"
NOTE_STYLE = "color: palette(placeholder-text)"


class PreferencesWindow(QWidget):
    def __init__(self, context: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Preferences")
        self.context = context
        self.settings = context.settings
        self.editors: dict[str, SettingEditor] = {}
        self.cache_files = CacheFilesRow(context.engine)
        self.cloud_key = CloudKeyRow(context.settings)
        self.draft_row = DraftRow(context)
        self.kv_cache_label = QLabel()
        """What the KV cache takes at the context length, full precision vs the chosen bits."""
        self.kv_cache_label.setWordWrap(True)
        self.kv_cache_label.setStyleSheet(HINT_STYLE)
        self.tabs = QTabWidget()
        for title, groups in PAGES.items():
            self.tabs.addTab(self._page(groups), title.replace("&", "&&"))
        self.performance = PerformanceView(context)
        self.tabs.addTab(self.performance, "Performance")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.restore_button = QPushButton("Restore Defaults")
        self.restore_button.setToolTip("Put every setting on this page back to Cabin's default")
        self.restore_button.clicked.connect(self.restore_page_defaults)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.restore_button, QDialogButtonBox.ButtonRole.ResetRole)
        buttons.rejected.connect(self.close)
        self.tabs.currentChanged.connect(self._page_changed)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(self.message)
        layout.addWidget(buttons)
        self.show_values()
        context.models.sig_changed.connect(self._show_model_context)
        self._show_model_context()
        for keys in (QKeySequence.StandardKey.Close, QKeySequence(Qt.Key.Key_Escape)):
            QShortcut(keys, self, self.close)
        self.resize(780, 800)

    def _page(self, groups: dict[str, str]) -> QWidget:
        page = QWidget()
        column = QVBoxLayout(page)
        labels: list[QLabel] = []
        for title, section in groups.items():
            box = QGroupBox(title)
            form = QFormLayout(box)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            for key in section_keys(section):
                editor = editor_for(key)
                editor.sig_entered.connect(self.enter)
                self.editors[key] = editor
                label = "" if key in SWITCHES_LABELLED_BESIDE else spec(key).label
                form.addRow(label, editor)
                if label:
                    labels.append(form.labelForField(editor))
                    labels[-1].setToolTip(spec(key).help)
            if section == "cache_files":
                form.addRow("", self.cache_files)
            if section == "kv_cache":
                form.addRow("", self.kv_cache_label)
            if section == "cloud":
                form.addRow("API key", self.cloud_key)
            if section == "speculative":
                form.addRow("Draft model", self.draft_row)
                form.addRow("", self.draft_row.status)
            column.addWidget(box)
        column.addStretch(1)
        width = max((label.sizeHint().width() for label in labels), default=0)
        for label in labels:
            label.setMinimumWidth(width)
        return page

    # -- values ------------------------------------------------------------------------------
    def show_values(self) -> None:
        for key, editor in self.editors.items():
            editor.show_value(self.settings.get(key))
            editor.show_error(False)
        self._show_kv_cache()

    def enter(self, key: str, entered: Any) -> bool:
        """Take what the user entered for `key`, or refuse it with the reason; True when it was taken."""
        try:
            value = parse(key, entered) if isinstance(entered, str) else entered
            self.settings.set(key, value)
        except SettingError as e:
            self.editors[key].show_error(True)
            self._say(f"{e}. Still using {self._current_text(key)}.", error=True)
            return False
        except OSError as e:
            self._say(f"Could not save the settings file: {e.strerror or e}", error=True)
            return False
        self.editors[key].show_error(False)
        if spec(key).section != "chat":  # re-showing text being typed would move the cursor
            self.editors[key].show_value(value)
        if key in ENGINE_KEYS:
            apply_to_engine(self.settings, self.context.engine)
        if spec(key).section == "cloud":
            self.cloud_key.show_stored()
        self._show_kv_cache()
        self._say(NOTES.get(key, SAVED_NOTE))
        return True

    def _show_model_context(self) -> None:
        """Beside the context length: the most the loaded model takes (a longer setting is capped to it)."""
        info = self.context.models.info
        hint = self.editors["context_length"].hint
        model = f" · this model: at most {info.context_length:,}" if info and info.context_length else ""
        hint.setText(range_hint("context_length") + model)
        self._show_kv_cache()

    def _show_kv_cache(self) -> None:
        values, engine = self.settings.values, self.context.engine
        plan = engine.compute_plan
        float32 = plan is not None and plan.upcast
        self.kv_cache_label.setText(kv_cache_text(self.context.models.info, values.context_length, values.kv_cache_bits, float32))

    def _current_text(self, key: str) -> str:
        return to_text(key, self.settings.get(key)) or spec(key).blank

    def restore_page_defaults(self) -> None:
        keys = [key for section in self._page_sections() for key in section_keys(section)]
        self.settings.restore_defaults(keys)
        if any(key in ENGINE_KEYS for key in keys):
            apply_to_engine(self.settings, self.context.engine)
        self.show_values()
        self._say("Defaults restored on this page.")

    def _page_sections(self) -> list[str]:
        return list(PAGES.get(self._tab_title(self.tabs.currentIndex()), {}).values())

    def _tab_title(self, index: int) -> str:
        return self.tabs.tabText(index).replace("&&", "&")

    def _page_changed(self) -> None:
        self.restore_button.setVisible(bool(self._page_sections()))
        self._say("")

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setText(text)
        self.message.setStyleSheet(ERROR_STYLE if error else NOTE_STYLE)

    def show_page(self, title: str) -> None:
        titles = [self._tab_title(i) for i in range(self.tabs.count())]
        self.tabs.setCurrentIndex(titles.index(title))
        self.show()
        self.raise_()
        self.activateWindow()
