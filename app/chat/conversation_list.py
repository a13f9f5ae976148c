"""The left column: search, New Chat, the conversations (newest first), and an Undo bar after a delete."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtCore import QPoint, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from engine.conversations.model import Conversation

SEARCH_DELAY_MS = 150
UNDO_SECONDS = 10
ID_ROLE = Qt.ItemDataRole.UserRole


class UndoBar(QFrame):
    """'Deleted “title”  [Undo]' for a few seconds; `sig_expired` when the chance to undo is gone."""

    sig_undo = Signal(str)
    sig_expired = Signal(str)

    def __init__(self) -> None:
        super().__init__()
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.button = QPushButton("Undo")
        self.button.clicked.connect(self.undo)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.button)
        self._timer = QTimer(self, singleShot=True, interval=UNDO_SECONDS * 1000)
        self._timer.timeout.connect(self.expire)
        self.conversation_id: str | None = None
        self.hide()

    def offer(self, conversation_id: str, title: str) -> None:
        self.expire()
        self.conversation_id = conversation_id
        self.label.setText(f"Deleted “{title}”")
        self.show()
        self._timer.start()

    def expire(self) -> None:
        if self.conversation_id is not None:
            expired, self.conversation_id = self.conversation_id, None
            self.sig_expired.emit(expired)
        self._timer.stop()
        self.hide()

    def undo(self) -> None:
        if self.conversation_id is not None:
            undone, self.conversation_id = self.conversation_id, None
            self._timer.stop()
            self.hide()
            self.sig_undo.emit(undone)


class ConversationList(QWidget):
    sig_selected = Signal(object)
    """A conversation id, or None for a new chat."""
    sig_new = Signal()
    sig_search = Signal(str)
    sig_rename = Signal(str, str)
    sig_delete = Signal(str)
    sig_export = Signal(str, str)
    """(conversation id, 'markdown' or 'json')."""

    def __init__(self) -> None:
        super().__init__()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search conversations")
        self.search.setClearButtonEnabled(True)
        self.new_button = QPushButton("New Chat")
        self.new_button.clicked.connect(self.sig_new)
        self.list = QListWidget()
        self.list.setStyleSheet("QListWidget::item { padding: 5px 4px; }")
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.list.setTextElideMode(Qt.TextElideMode.ElideRight)  # a long title ends in "…", the full one in its tooltip
        self.list.setEditTriggers(QAbstractItemView.EditTrigger.EditKeyPressed)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        self.list.currentItemChanged.connect(self._current_changed)
        self.list.itemChanged.connect(self._renamed)
        self.list.itemDoubleClicked.connect(self.list.editItem)
        self.undo_bar = UndoBar()
        self._search_timer = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        self._search_timer.timeout.connect(lambda: self.sig_search.emit(self.search.text()))
        self.search.textChanged.connect(self._search_timer.start)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.undo_bar)
        self._filling = False

    def show_conversations(self, conversations: list[Conversation], current: str | None) -> None:
        self._filling = True
        self.list.clear()
        for conversation in conversations:
            item = QListWidgetItem(conversation.title)
            item.setData(ID_ROLE, conversation.id)
            item.setToolTip(f"{conversation.title}\n{datetime.fromtimestamp(conversation.updated):%Y-%m-%d %H:%M}")
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsEditable)
            self.list.addItem(item)
            if conversation.id == current:
                self.list.setCurrentItem(item)
        self._filling = False

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return item.data(ID_ROLE) if item else None

    def start_rename(self) -> None:
        if self.list.currentItem():
            self.list.editItem(self.list.currentItem())

    def _current_changed(self, item: QListWidgetItem | None, _previous: QListWidgetItem | None) -> None:
        if not self._filling and item is not None:
            self.sig_selected.emit(item.data(ID_ROLE))

    def _renamed(self, item: QListWidgetItem) -> None:
        if not self._filling:
            self.sig_rename.emit(item.data(ID_ROLE), item.text())

    def _context_menu(self, position: QPoint) -> None:
        item = self.list.itemAt(position)
        if item is None:
            return
        conversation_id = item.data(ID_ROLE)
        menu = QMenu(self)
        menu.addAction("Rename", lambda: self.list.editItem(item))
        menu.addAction("Export as Markdown…", lambda: self.sig_export.emit(conversation_id, "markdown"))
        menu.addAction("Export as JSON…", lambda: self.sig_export.emit(conversation_id, "json"))
        menu.addSeparator()
        menu.addAction("Delete", lambda: self.sig_delete.emit(conversation_id))
        menu.exec(self.list.viewport().mapToGlobal(position))

    def keyPressEvent(self, event) -> None:  # noqa: N802 — Qt override
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and self.current_id():
            self.sig_delete.emit(self.current_id())
            return
        super().keyPressEvent(event)
