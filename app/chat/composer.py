"""Where the user writes: Enter sends, Shift+Enter starts a new line, ⌘↩ (Ctrl+Enter) also sends.
The Send button turns into Stop while an answer is being written."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPlainTextEdit, QPushButton, QVBoxLayout, QWidget

MAX_LINES = 10
HINT_STYLE = "font-size: 11px; color: palette(placeholder-text)"


class PromptEdit(QPlainTextEdit):
    """A text box that grows with its text (up to MAX_LINES) and sends on Enter."""

    sig_submit = Signal()
    sig_cancel = Signal()
    """Escape was pressed (an in-place edit of a message is abandoned)."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 — Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancel.emit()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
                # Qt reports ⌘ as Control on macOS, so this is also ⌘↩ there.
                self.sig_submit.emit()
                return
            if mods == Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
        super().keyPressEvent(event)

    def _fit_height(self, *_size) -> None:
        lines = min(max(self.document().lineCount(), 1), MAX_LINES)
        margins = self.contentsMargins().top() + self.contentsMargins().bottom()
        padding = 2 * int(self.document().documentMargin())
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + margins + padding + 4)


class Composer(QWidget):
    sig_send = Signal(str)
    sig_stop = Signal()

    def __init__(self) -> None:
        super().__init__()
        self.edit = PromptEdit()
        self.edit.setPlaceholderText("Message Cabin")
        self.button = QPushButton("Send")
        self.button.setMinimumWidth(72)
        self.button.clicked.connect(self._clicked)
        self.edit.sig_submit.connect(self._submit)
        send_key = "⌘↩" if sys.platform == "darwin" else "Ctrl+Enter"
        self._hint_text = f"Enter to send · Shift+Enter for a new line · {send_key} also sends · Esc stops"
        self.hint = QLabel(self._hint_text)
        self.hint.setStyleSheet(HINT_STYLE)
        row = QHBoxLayout()
        row.addWidget(self.edit, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        self._busy = False

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setText("Stop" if busy else "Send")

    def _clicked(self) -> None:
        if self._busy:
            self.sig_stop.emit()
        else:
            self._submit()

    def _submit(self) -> None:
        text = self.edit.toPlainText()
        if self._busy or not text.strip():
            return
        self.sig_send.emit(text)

    def clear(self) -> None:
        self.edit.clear()
        self.show_notice("")

    def show_notice(self, text: str) -> None:
        """A message under the text box (e.g. why nothing was sent); empty brings back the key hints."""
        self.hint.setText(text or self._hint_text)
        self.hint.setStyleSheet("font-size: 11px; color: #c62828" if text else HINT_STYLE)
