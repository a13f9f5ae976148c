"""A reasoning model's thinking, above its answer: open and streaming while the model thinks, folded to
"Thought for 12 s" once the answer begins; a click on its header opens or folds it again.

While it streams, the thinking shows in a box of a few lines that follows the newest text, so the chat
column keeps its height and is not re-laid out for every frame of thinking.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QRect, Qt, QTimer
from PySide6.QtGui import QPalette, QResizeEvent, QTextCursor
from PySide6.QtWidgets import QFrame, QPlainTextEdit, QToolButton, QVBoxLayout

from engine.conversations.model import StoredMessage

LIVE_LINES = 6
"""Lines of thinking shown while it streams (the newest)."""
OPEN_LINES = 24
"""Most lines an opened block shows before it scrolls."""
TEXT_INSET = 30
"""Pixels of the block's width the text does not get: its left rule and padding, margins, a scroll bar."""


def thought_for(seconds: float) -> str:
    """The folded header: how long the model thought ("Thought for 12 s", "Thought for 2 min 5 s")."""
    if seconds <= 0:
        return "Thoughts"
    whole = max(1, round(seconds))
    minutes, rest = divmod(whole, 60)
    return f"Thought for {minutes} min {rest} s" if minutes else f"Thought for {whole} s"


class ThinkingBlock(QFrame):
    def __init__(self, reasoning: str = "", live: bool = False) -> None:
        super().__init__()
        self.setObjectName("thinkingBlock")
        self.live = live
        """Still thinking: open, following the newest text, its header counting seconds."""
        self._started = time.monotonic()
        self._clock = QTimer(self)
        self._clock.setInterval(1000)
        self._clock.timeout.connect(self._tick)
        self.header = QToolButton()
        self.header.setAutoRaise(True)
        self.header.setCheckable(True)
        self.header.setCursor(Qt.CursorShape.PointingHandCursor)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.toggled.connect(self._set_open)
        self.text = QPlainTextEdit()
        self.text.setReadOnly(True)
        self.text.setFrameShape(QFrame.Shape.NoFrame)
        self.text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.text.setPlainText(reasoning)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 2)
        layout.setSpacing(2)
        layout.addWidget(self.header, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addWidget(self.text)
        self._style()
        self.header.setText("Thinking…" if live else thought_for(0))
        self.header.setChecked(live)
        self._set_open(live)
        if live:
            self._clock.start()

    @classmethod
    def for_message(cls, message: StoredMessage) -> ThinkingBlock | None:
        """The block of a message shown from history (folded), or of one still thinking (open); None without thinking."""
        if not message.reasoning:
            return None
        thinking = message.is_streaming and not message.text
        block = cls(message.reasoning, live=thinking)
        if not thinking:
            block.settle(message.thinking_time)
        return block

    @property
    def is_open(self) -> bool:
        return self.header.isChecked()

    def append(self, text: str) -> None:
        """More thinking streamed in: added at the end and kept in view."""
        cursor = self.text.textCursor()
        cursor.movePosition(QTextCursor.MoveOperation.End)
        cursor.insertText(text)
        bar = self.text.verticalScrollBar()
        bar.setValue(bar.maximum())

    def _tick(self) -> None:
        self.header.setText(f"Thinking… {round(time.monotonic() - self._started)} s")

    def settle(self, seconds: float) -> None:
        """The thinking is over (the answer began, or the answer ended): fold it under how long it took."""
        self.live = False
        self._clock.stop()
        self.header.setText(thought_for(seconds))
        self.header.setChecked(False)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 — Qt override
        super().resizeEvent(event)
        if self.is_open and not self.live:
            self._fit_height()

    def _set_open(self, is_open: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if is_open else Qt.ArrowType.RightArrow)
        self.text.setVisible(is_open)
        self._fit_height()

    def _fit_height(self) -> None:
        """Live: a few lines that follow the newest. Opened: the whole text, up to OPEN_LINES, wrapped at this width."""
        self.text.ensurePolished()  # the style sheet's font size, before measuring with it
        spacing = self.text.fontMetrics().lineSpacing()
        if self.live:
            height = LIVE_LINES * spacing
        else:
            area = QRect(0, 0, max(100, self.width() - TEXT_INSET), OPEN_LINES * spacing)
            wrapped = self.text.fontMetrics().boundingRect(area, Qt.TextFlag.TextWordWrap, self.text.toPlainText())
            height = min(wrapped.height(), OPEN_LINES * spacing)
        self.text.setFixedHeight(height + int(2 * self.text.document().documentMargin()) + 4)

    def _style(self) -> None:
        palette = self.palette()
        muted = palette.color(QPalette.ColorRole.PlaceholderText).name()
        rule = palette.color(QPalette.ColorRole.Mid).name()
        self.header.setStyleSheet(f"color: {muted}; font-size: 12px; border: none; padding: 0")
        self.text.setStyleSheet(
            f"QPlainTextEdit {{ color: {muted}; font-size: 12px; background: transparent;"
            f" border-left: 2px solid {rule}; padding-left: 8px; }}"
        )
