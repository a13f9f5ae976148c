"""A read-only rich-text view that is as tall as its text, for one prose block of a message."""

from __future__ import annotations

import math

from PySide6.QtCore import QSizeF, QUrl, Qt, Signal
from PySide6.QtGui import QDesktopServices, QGuiApplication, QTextCursor
from PySide6.QtWidgets import QFrame, QSizePolicy, QTextBrowser

from app.chat.markdown import COPY_SCHEME, Rendered, render_markdown, render_markdown_once
from app.theme import chat_colors

BLOCK_STYLE = (
    "p, ul, ol, table, pre { margin-top: 0px; margin-bottom: 0px; }"
    " h1, h2, h3, h4, h5, h6 { margin-top: 6px; margin-bottom: 0px; }"
)
"""A block's view has no outer margins: the message's column spaces its blocks evenly."""


class MessageBrowser(QTextBrowser):
    sig_copied = Signal(str)
    """The text of a code block (nested in a list or quote) the user copied with its Copy link."""

    def __init__(self) -> None:
        super().__init__()
        self.markdown: str | None = None
        self.renders = 0
        """How many times Markdown was rendered into this view (a frozen block's stays at one)."""
        self._rendered = Rendered("", ())
        self._end: QTextCursor | None = None
        self.setOpenLinks(False)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
        self.viewport().setAutoFillBackground(False)
        # The style sheet makes this widget's own palette transparent: colours come from the application's.
        self.setStyleSheet("QTextBrowser { background: transparent; }")
        self.document().setDocumentMargin(0)
        self.document().setDefaultStyleSheet(BLOCK_STYLE)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self.anchorClicked.connect(self._open_link)

    def _fit_height(self, size: QSizeF) -> None:
        self.setFixedHeight(max(math.ceil(size.height()), self.fontMetrics().height()))

    def set_markdown(self, text: str, final: bool = True) -> None:
        """Show `text` as Markdown; `final=False` for a block still being written (not worth memoising)."""
        render = render_markdown if final else render_markdown_once
        self.markdown = text
        self._rendered = render(text, chat_colors(QGuiApplication.palette()))
        self.setHtml(self._rendered.html)
        self.renders += 1
        self._end = None

    def append_plain(self, text: str) -> None:
        """Add text at the end, unrendered. The cursor is kept between calls: moving a new one to the end
        of a long paragraph costs as much as the insertion itself."""
        if self._end is None:
            self._end = QTextCursor(self.document())
            self._end.movePosition(QTextCursor.MoveOperation.End)
        self._end.insertText(text)

    @property
    def code_blocks(self) -> tuple[str, ...]:
        return self._rendered.code_blocks

    def _open_link(self, url: QUrl) -> None:
        if url.scheme() == COPY_SCHEME:
            code = self._rendered.code_blocks[int(url.path())]
            QGuiApplication.clipboard().setText(code)
            self.sig_copied.emit(code)
        elif url.scheme() in ("http", "https", "mailto"):
            QDesktopServices.openUrl(url)

    def wheelEvent(self, event) -> None:  # noqa: N802 — Qt override
        """Let the chat's scroll area scroll: this view never scrolls itself."""
        event.ignore()
