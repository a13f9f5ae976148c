"""One message in the chat: who said it, the text as Markdown, its stats and its actions."""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QGuiApplication, QPalette
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.chips import chip_row
from app.chat.images import thumbnail_row
from app.chat.composer import PromptEdit
from app.chat.footer import footer_text, live_footer_text, run_notes
from app.chat.message_body import MessageBody
from app.chat.thinking_block import ThinkingBlock
from engine.conversations.model import StoredMessage
from engine.generation import Stats
from engine.messages import File, Image

LIVE_FOOTER_INTERVAL = 0.25
"""Least seconds between updates of the live footer: a label re-laid out 30 times a second costs the UI
thread as much as the text itself, and figures changing faster than this cannot be read anyway."""


def _tool_button(text: str, tip: str) -> QToolButton:
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tip)
    button.setAutoRaise(True)
    button.setCursor(Qt.CursorShape.PointingHandCursor)
    return button


class BranchSwitcher(QWidget):
    """‹ 2 / 3 › between the versions of a message."""

    sig_step = Signal(int)

    def __init__(self, index: int, count: int) -> None:
        super().__init__()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.previous = _tool_button("‹", "Previous version")
        self.next = _tool_button("›", "Next version")
        self.label = QLabel(f"{index + 1} / {count}")
        self.previous.setEnabled(index > 0)
        self.next.setEnabled(index < count - 1)
        self.previous.clicked.connect(lambda: self.sig_step.emit(-1))
        self.next.clicked.connect(lambda: self.sig_step.emit(1))
        for widget in (self.previous, self.label, self.next):
            layout.addWidget(widget)


class MessageView(QFrame):
    sig_edit = Signal(str, str)
    """(message id, new text): resend from an edited question."""
    sig_regenerate = Signal(str)
    sig_switch = Signal(str, int)
    """(message id, -1 or +1): show another version of this message."""

    def __init__(self, message: StoredMessage, author: str, version: tuple[int, int]) -> None:
        super().__init__()
        self.message = message
        self.setObjectName("userMessage" if message.role == "user" else "assistantMessage")
        self.body = MessageBody()
        self.footer = QLabel(footer_text(message))
        self.footer.setWordWrap(True)
        self.footer.setVisible(message.role == "assistant")
        self.footer.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = _tool_button("Copy", "Copy this message as Markdown")
        self.copy_button.clicked.connect(self._copy)
        self.action_button = self._action_button()
        self.editor: PromptEdit | None = None
        self.switcher: BranchSwitcher | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(14, 10, 14, 8)
        self._layout.setSpacing(4)
        self._layout.addLayout(self._header(author, version))
        files = message.message.of_kind(File)
        if files:
            self._layout.addWidget(chip_row(files))
        images = message.message.of_kind(Image)
        if images:
            self._layout.addWidget(thumbnail_row(images))
        self._layout.addWidget(self.body)
        self.body.setVisible(bool(message.text) or message.role != "user")
        if message.role == "assistant":
            self._layout.addLayout(self._footer_row())
        self.thinking = ThinkingBlock.for_message(message)
        if self.thinking is not None:
            self._layout.insertWidget(1, self.thinking)  # above the answer
        self._style()
        self._next_footer = 0.0
        self._notes = ""
        """How this session ran the answer (batch, draft model) as of the latest streamed stats: shown in its footer,
        not stored."""
        if message.is_streaming:
            self.body.start(message.text)
            self.footer.setText(live_footer_text(None))
        else:
            self.body.set_markdown(message.text)

    def _header(self, author: str, version: tuple[int, int]) -> QHBoxLayout:
        row = QHBoxLayout()
        name = QLabel(author)
        self.author = name
        name.setStyleSheet("font-weight: 600")
        row.addWidget(name)
        row.addStretch()
        index, count = version
        if count > 1:
            self.switcher = BranchSwitcher(index, count)
            self.switcher.sig_step.connect(lambda step: self.sig_switch.emit(self.message.id, step))
            row.addWidget(self.switcher)
        if self.message.role == "user":
            row.addWidget(self.copy_button)
            row.addWidget(self.action_button)
        return row

    def _footer_row(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.footer, 1)
        row.addWidget(self.copy_button)
        row.addWidget(self.action_button)
        return row

    def _action_button(self) -> QToolButton:
        if self.message.role == "user":
            button = _tool_button("Edit", "Edit this question and ask again (the old version is kept)")
            button.clicked.connect(self.start_editing)
        else:
            button = _tool_button("Regenerate", "Write a new answer (the old one is kept)")
            button.clicked.connect(lambda: self.sig_regenerate.emit(self.message.id))
        return button

    def _style(self) -> None:
        palette = self.palette()
        if self.message.role == "user":
            bubble = palette.color(QPalette.ColorRole.AlternateBase).name()
            self.setStyleSheet(f"QFrame#userMessage {{ background: {bubble}; border-radius: 10px; }}")
        muted = palette.color(QPalette.ColorRole.PlaceholderText).name()
        color = "#c62828" if self.message.error else muted
        self.footer.setStyleSheet(f"color: {color}; font-size: 11px")

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 — Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._style()

    # -- streaming ---------------------------------------------------------------------------
    def append(self, text: str, stats: Stats | None) -> None:
        """Add streamed text (a frame's worth): the body shows it block by block (see MessageBody)."""
        self.body.append(text)
        self._notes = run_notes(stats) or self._notes
        now = time.perf_counter()
        if now >= self._next_footer:
            self.footer.setText(live_footer_text(stats))
            self._next_footer = now + LIVE_FOOTER_INTERVAL

    def finish(self, message: StoredMessage) -> None:
        self.message = message
        self.author.setText(message.model or self.author.text())  # a cloud model may have written it (engine/cloud)
        self.body.finish(message.text)
        self.footer.setText(" · ".join(filter(None, [footer_text(message), self._notes])))
        self._style()
        if self.thinking is not None and self.thinking.live:
            self.thinking.settle(message.thinking_time)

    def set_actions_enabled(self, enabled: bool) -> None:
        self.action_button.setEnabled(enabled)
        if self.switcher is not None:
            self.switcher.setEnabled(enabled)

    def think(self, text: str) -> None:
        """Streamed thinking: into the Thinking block above the answer, made at the first of it."""
        if self.thinking is None:
            self.thinking = ThinkingBlock(live=True)
            self._layout.insertWidget(1, self.thinking)
        self.thinking.append(text)

    def thought(self, seconds: float) -> None:
        """The answer began: fold the thinking."""
        if self.thinking is not None:
            self.thinking.settle(seconds)

    # -- actions -----------------------------------------------------------------------------
    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.message.text)

    def start_editing(self) -> None:
        """Swap the text for an editor; Send asks again from the edited question."""
        if self.editor is not None:
            return
        self.edit_panel = QWidget()
        panel = QVBoxLayout(self.edit_panel)
        panel.setContentsMargins(0, 0, 0, 0)
        self.editor = PromptEdit()
        self.editor.setPlainText(self.message.text)
        self.editor.sig_submit.connect(self._submit_edit)
        self.editor.sig_cancel.connect(self.stop_editing)
        send, cancel = QPushButton("Send"), QPushButton("Cancel")
        send.setDefault(True)
        send.clicked.connect(self._submit_edit)
        self.edit_send_button = send
        cancel.clicked.connect(self.stop_editing)
        buttons = QHBoxLayout()
        buttons.addStretch()
        buttons.addWidget(cancel)
        buttons.addWidget(send)
        panel.addWidget(self.editor)
        panel.addLayout(buttons)
        self.body.hide()
        self.action_button.setEnabled(False)
        self._layout.insertWidget(self._layout.indexOf(self.body), self.edit_panel)
        self.editor.setFocus()

    def stop_editing(self) -> None:
        if self.editor is None:
            return
        self.edit_panel.deleteLater()
        self.editor = None
        self.body.show()
        self.action_button.setEnabled(True)

    def _submit_edit(self) -> None:
        text = self.editor.toPlainText()
        if text.strip():
            self.sig_edit.emit(self.message.id, text)
