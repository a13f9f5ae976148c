"""One editor per setting, chosen by its type in the schema: a check box, a text box, or a number field.

Number fields are plain line edits, not spin boxes, so that a value out of range can be typed and
then refused with a message instead of being silently clamped. Editors only report what the user
entered (`sig_entered`); the Preferences window decides whether the setting takes it.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QHBoxLayout, QLabel, QLineEdit, QPlainTextEdit, QWidget

from engine.settings.schema import spec, to_text, value_type

TEXT_SAVE_DELAY_MS = 600
ERROR_STYLE = "QLineEdit { border: 1px solid #d32f2f; border-radius: 3px; padding: 2px; }"
HINT_STYLE = "color: palette(placeholder-text)"


class SettingEditor(QWidget):
    sig_entered = Signal(str, object)
    """(setting key, what the user entered: text for numbers and text, a bool for switches)."""

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key
        self.setToolTip(spec(key).help)

    def show_value(self, value: Any) -> None:
        raise NotImplementedError

    def show_error(self, error: bool) -> None:
        """Mark the editor as holding a value that was refused."""


class SwitchEditor(SettingEditor):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.box = QCheckBox(spec(key).label)
        self.box.setToolTip(spec(key).help)
        self.box.toggled.connect(lambda on: self.sig_entered.emit(self.key, on))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)

    def show_value(self, value: Any) -> None:
        self.box.blockSignals(True)
        self.box.setChecked(bool(value))
        self.box.blockSignals(False)


class ChoiceEditor(SettingEditor):
    """One of the few values the schema offers, by name."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.box = QComboBox()
        for value, label in spec(key).choices:
            self.box.addItem(label, value)
        self.box.setToolTip(spec(key).help)
        self.box.activated.connect(lambda index: self.sig_entered.emit(self.key, self.box.itemData(index)))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box)
        layout.addStretch(1)

    def choose(self, value: Any) -> None:
        """Pick `value` as the user would."""
        self.box.setCurrentIndex(self.box.findData(value))
        self.box.activated.emit(self.box.currentIndex())

    def show_value(self, value: Any) -> None:
        self.box.setCurrentIndex(self.box.findData(value))


class TextEditor(SettingEditor):
    """Multi-line text, saved a moment after typing stops (and when the editor loses focus)."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.edit = QPlainTextEdit()
        self.edit.setPlaceholderText("None: the model's own default behaviour")
        self.edit.setTabChangesFocus(True)
        self.edit.setFixedHeight(self.edit.fontMetrics().lineSpacing() * 4 + 14)
        self._timer = QTimer(self, singleShot=True, interval=TEXT_SAVE_DELAY_MS)
        self._timer.timeout.connect(self.commit)
        self.edit.textChanged.connect(self._timer.start)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)

    def commit(self) -> None:
        self._timer.stop()
        self.sig_entered.emit(self.key, self.edit.toPlainText())

    def focusOutEvent(self, event) -> None:  # noqa: N802 — Qt override
        if self._timer.isActive():
            self.commit()
        super().focusOutEvent(event)

    def show_value(self, value: Any) -> None:
        if self.edit.toPlainText() != value:
            self.edit.blockSignals(True)
            self.edit.setPlainText(value)
            self.edit.blockSignals(False)


class LineEditor(SettingEditor):
    """One line of text (a URL, a model name), taken when editing finishes."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(spec(key).blank)
        self.edit.setToolTip(spec(key).help)
        self.edit.editingFinished.connect(lambda: self.sig_entered.emit(self.key, self.edit.text()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)

    def show_value(self, value: Any) -> None:
        self.edit.setText(value or "")


class NumberEditor(SettingEditor):
    """A number typed as text, with its unit and valid range beside it; empty means the blank meaning."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        s = spec(key)
        self.edit = QLineEdit()
        self.edit.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.edit.setFixedWidth(110)
        self.edit.setPlaceholderText(s.blank)
        self.edit.setToolTip(s.help)
        self.edit.editingFinished.connect(self._entered)
        self.hint = QLabel(range_hint(key))
        self.hint.setStyleSheet(HINT_STYLE)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.edit)
        layout.addWidget(self.hint, 1)
        self._shown = ""

    def _entered(self) -> None:
        if self.edit.text() != self._shown or self.edit.styleSheet():
            self.sig_entered.emit(self.key, self.edit.text())

    def show_value(self, value: Any) -> None:
        self._shown = to_text(self.key, value)
        self.edit.setText(self._shown)

    def show_error(self, error: bool) -> None:
        self.edit.setStyleSheet(ERROR_STYLE if error else "")


def _number(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:g}"


def range_hint(key: str) -> str:
    """'tokens · 1 – 131,072', '>0 – 1', 'GB · 0.25 – 4,096 · empty: MLX default'."""
    s = spec(key)
    _kind, optional = value_type(key)
    low = f">{_number(s.minimum)}" if s.above_minimum else _number(s.minimum)
    parts = [s.unit, f"{low} – {_number(s.maximum)}", f"empty: {s.blank}" if optional else ""]
    return " · ".join(p for p in parts if p)


def editor_for(key: str) -> SettingEditor:
    if spec(key).choices:
        return ChoiceEditor(key)
    kind, _optional = value_type(key)
    if kind is str and spec(key).one_line:
        return LineEditor(key)
    return {bool: SwitchEditor, str: TextEditor}.get(kind, NumberEditor)(key)
