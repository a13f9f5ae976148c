"""The conversation on the right: the messages of the visible branch, or a start screen when empty."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QPaintEvent, QShowEvent
from PySide6.QtWidgets import QLabel, QPushButton, QScrollArea, QStackedWidget, QVBoxLayout, QWidget

from app.chat.citations import show_citations
from app.chat.first_run import ModelOffers, Offers
from app.chat.message_view import MessageView
from app.chat.session import ChatSession
from engine.conversations.model import StoredMessage
from engine.generation import Stats

STICK_MARGIN = 24
"""Pixels from the bottom within which the view follows a growing answer."""
MAX_TEXT_WIDTH = 860
OFFERS_WIDTH = 640


class EmptyState(QWidget):
    """What an empty conversation shows: how to start, and when there is no model, the models there are to load,
    import or download (app/chat/first_run.py), and a button to choose a model folder."""

    sig_choose_model = Signal()
    sig_shown = Signal()
    """The empty chat came into view (the window opened on it, or the user came back to it)."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.addStretch(2)
        self.title = QLabel("Cabin")
        self.title.setStyleSheet("font-size: 26px; font-weight: 600")
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("font-size: 14px")
        self.offers = ModelOffers()
        self.offers.setMaximumWidth(OFFERS_WIDTH)
        self.button = QPushButton("Choose Model Folder…")
        self.button.clicked.connect(self.sig_choose_model)
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setContentsMargins(48, 0, 48, 0)
        layout.addWidget(self.title, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addWidget(self.hint)  # full width: a wrapped label given its own width would be clipped
        layout.addSpacing(8)
        layout.addWidget(self.offers, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addSpacing(8)
        layout.addWidget(self.button, 0, Qt.AlignmentFlag.AlignHCenter)
        layout.addStretch(3)
        self._offering = False
        self._painted = False
        self._after_paint: list[Callable[[], None]] = []

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 — Qt override
        super().showEvent(event)
        self.sig_shown.emit()

    def when_painted(self, callback: Callable[[], None]) -> None:
        """Call `callback` once this page has been drawn (at once if it has): work that may import MLX waits
        so, and the window appears first."""
        if self._painted:
            callback()
        else:
            self._after_paint.append(callback)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 — Qt override
        super().paintEvent(event)
        self._painted = True
        waiting, self._after_paint = self._after_paint, []
        for callback in waiting:
            QTimer.singleShot(0, callback)

    def show_hint(self, text: str, offer_model_choice: bool) -> None:
        self.hint.setText(text)
        self._offering = offer_model_choice
        self.button.setVisible(offer_model_choice)
        self.offers.setVisible(offer_model_choice and bool(self.offers.buttons))

    def show_offers(self, offers: Offers) -> None:
        self.offers.show_offers(offers)
        self.offers.setVisible(self._offering and bool(self.offers.buttons))


class ChatView(QStackedWidget):
    sig_edit = Signal(str, str)
    sig_regenerate = Signal(str)
    sig_switch = Signal(str, int)

    def __init__(self, session: ChatSession, assistant_name: Callable[[], str]) -> None:
        super().__init__()
        self._session = session
        self._assistant_name = assistant_name
        self.empty = EmptyState()
        self.scroll = QScrollArea()
        self.scroll.setWidgetResizable(True)
        self.scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self._content = QWidget()
        self._column = QVBoxLayout(self._content)
        self._column.setContentsMargins(24, 16, 24, 16)
        self._column.setSpacing(10)
        self._column.addStretch(1)  # spare height goes below the messages, never into them
        self.scroll.setWidget(self._content)
        self.addWidget(self.empty)
        self.addWidget(self.scroll)
        self.views: list[MessageView] = []
        self._stick = True
        bar = self.scroll.verticalScrollBar()
        bar.valueChanged.connect(self._remember_position)
        bar.rangeChanged.connect(self._follow)
        session.sig_thread_changed.connect(self.show_thread)
        session.sig_streamed.connect(self._streamed)
        session.sig_thinking.connect(lambda text: self.views and self.views[-1].think(text))
        session.sig_thought.connect(lambda seconds: self.views and self.views[-1].thought(seconds))
        session.sig_answer_finished.connect(self._finished)
        session.sig_busy_changed.connect(self._busy_changed)

    # -- building ----------------------------------------------------------------------------
    def show_thread(self) -> None:
        for view in self.views:
            self._column.removeWidget(view)
            view.setParent(None)
            view.deleteLater()
        self.views = [self._view_for(message) for message in self._session.thread]
        for index, view in enumerate(self.views):
            self._column.insertWidget(index, view)
        self._busy_changed(self._session.busy)
        self.setCurrentWidget(self.scroll if self.views else self.empty)
        self._stick = True
        self._follow()

    def _view_for(self, message: StoredMessage) -> MessageView:
        versions = [m.id for m in self._session.siblings(message)]
        author = "You" if message.role == "user" else (message.model or self._assistant_name())
        view = MessageView(message, author, (versions.index(message.id), len(versions)))
        view.setMaximumWidth(MAX_TEXT_WIDTH)
        view.sig_edit.connect(self.sig_edit)
        view.sig_regenerate.connect(self.sig_regenerate)
        view.sig_switch.connect(self.sig_switch)
        show_citations(view, self._session.citations(message.id))
        return view

    def resizeEvent(self, event) -> None:  # noqa: N802 — Qt override
        super().resizeEvent(event)
        side = max(24, (self.width() - MAX_TEXT_WIDTH) // 2)
        self._column.setContentsMargins(side, 16, side, 16)

    # -- streaming ---------------------------------------------------------------------------
    def _streamed(self, text: str, stats: Stats | None) -> None:
        if self.views:
            self.views[-1].append(text, stats)

    def _finished(self, message: StoredMessage) -> None:
        for view in self.views:
            if view.message.id == message.id:
                view.finish(message)
                show_citations(view, self._session.citations(message.id))

    def _busy_changed(self, busy: bool) -> None:
        for view in self.views:
            view.set_actions_enabled(not busy)

    # -- following the end -------------------------------------------------------------------
    def _remember_position(self, value: int) -> None:
        self._stick = value >= self.scroll.verticalScrollBar().maximum() - STICK_MARGIN

    def _follow(self, *_range: int) -> None:
        if self._stick:
            bar = self.scroll.verticalScrollBar()
            bar.setValue(bar.maximum())
