"""A message's text as a column of its Markdown blocks: prose blocks in rich-text views, top-level code
blocks in code views of their own (monospace, scrolling sideways, with a Copy button).

While an answer streams, the text is shown up to 10 times a second: a block that is complete is rendered
once and frozen; only the block being written is updated. A code block grows by insertion (it is code from
its opening fence on); a prose block is re-rendered, or, once that gets slow, has its new text appended plain.
A finished message is built from the same blocks by the same views, so it looks as it did live.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLayout, QSizePolicy, QVBoxLayout, QWidget

from app.chat.browser import MessageBrowser
from app.chat.code_block import CodeBlockView
from app.chat.markdown_blocks import Block, LiveMarkdown, normalized, split_blocks
from app.theme import chat_colors

BLOCK_SPACING = 8
"""Pixels between two blocks (the views have no margins of their own)."""
LIVE_UPDATE_INTERVAL = 0.1
"""Least seconds between two updates of an answer on screen (its text arrives 20 times a second): each one
parses the text after the last complete block and re-lays out and repaints the block being written."""
LIVE_UPDATE_SHARE = 0.01
"""Updates may take at most this share of the time: when two in a row are slow, the next comes later. Painting them costs about as
much again, and on the CPU backend all of it is taken from decoding."""
LIVE_RENDER_BUDGET = 0.012
"""A Markdown render slower than this would make the window stutter: that block (a very long paragraph) is
appended as plain text until it is complete."""

BlockView = MessageBrowser | CodeBlockView


class MessageBody(QWidget):
    sig_copied = Signal(str)
    """The source of a code block the user copied."""

    def __init__(self) -> None:
        super().__init__()
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(BLOCK_SPACING)
        # Grown at once to hold its blocks: laid out in a parent not yet grown, a column would squeeze them.
        self._column.setSizeConstraint(QLayout.SizeConstraint.SetMinimumSize)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)  # as tall as its blocks
        self.views: list[BlockView] = []
        """One view per block, in order; the last is the live one while a block is being written."""
        self._text = ""
        self._colors = chat_colors(QGuiApplication.palette())
        """The colours the views were made in."""
        self._stream: LiveMarkdown | None = None
        self._live: BlockView | None = None
        self._unshown = ""
        """Text taken in since the last update."""
        self._next_update = self._last_cost = 0.0
        self._live_shown = 0
        self._render_live = True

    # -- a finished message ------------------------------------------------------------------
    def set_markdown(self, text: str) -> None:
        self._clear()
        self._text, self._colors = text, chat_colors(QGuiApplication.palette())
        for block in split_blocks(normalized(text)):
            self._add(self._view_for(block))

    # -- a message being written -------------------------------------------------------------
    def start(self, text: str = "") -> None:
        self._clear()
        self._colors = chat_colors(QGuiApplication.palette())
        self._stream, self._next_update = LiveMarkdown(), 0.0
        self.append(text)

    def append(self, delta: str) -> None:
        """Take in `delta`, added to the answer; shown at the next update (see LIVE_UPDATE_INTERVAL)."""
        if self._stream is None:
            return
        self._unshown += delta
        now = time.perf_counter()
        if self._unshown and now >= self._next_update:
            cost = self._update()
            pace = min(cost, self._last_cost)  # one slow update (a highlighter loaded) must not hold the next back
            self._next_update = now + max(LIVE_UPDATE_INTERVAL, pace / LIVE_UPDATE_SHARE)
            self._last_cost = cost

    def _update(self) -> float:
        """Show the text taken in: blocks it completes are frozen, the block being written is updated.
        Returns the seconds the update of a block already on screen took: the cost that recurs, which paces
        the next one (making a block's view, or loading its highlighter, is paid once)."""
        complete, live = self._stream.feed(self._unshown)
        self._unshown = ""
        for block in complete:
            self._freeze(block)
        if live is None:
            return 0.0
        recurring = self._live is not None and isinstance(self._live, CodeBlockView) == live.is_code
        start = time.perf_counter()
        self._show_live(live)
        return time.perf_counter() - start if recurring else 0.0

    def finish(self, text: str) -> None:
        """The answer is complete: freeze its last block, or rebuild if the final text differs from what streamed."""
        if self._stream is not None:
            self._update()
        if self._stream is None or normalized(text) != self._stream.text:
            self.set_markdown(text)
            return
        _complete, last = self._stream.feed("")
        if last is not None:
            self._freeze(last)
        self._stream, self._text = None, text

    def _freeze(self, block: Block) -> None:
        """Show `block` complete, in the live view when it has the block's kind, else in a new view."""
        if self._live is not None and isinstance(self._live, CodeBlockView) == block.is_code:
            self._show(self._live, block)
        else:
            self._drop_live()
            self._add(self._view_for(block))
        self._live = None

    def _show_live(self, block: Block) -> None:
        if self._live is not None and isinstance(self._live, CodeBlockView) != block.is_code:
            self._drop_live()  # e.g. "``" became a fence
        if self._live is None:
            self._live = self._add(self._view_for(block) if block.is_code else MessageBrowser())
            self._live_shown, self._render_live = 0, True
        if block.is_code:
            self._show(self._live, block)
        else:
            self._grow_prose(self._live, block.source)

    def _grow_prose(self, view: MessageBrowser, source: str) -> None:
        if self._render_live:
            start = time.perf_counter()
            view.set_markdown(source, final=False)
            self._render_live = time.perf_counter() - start < LIVE_RENDER_BUDGET
        else:
            view.append_plain(source[self._live_shown :])
        self._live_shown = len(source)

    # -- views -------------------------------------------------------------------------------
    def _view_for(self, block: Block) -> BlockView:
        colors = chat_colors(QGuiApplication.palette())
        if block.is_code:
            view = CodeBlockView(block.code, block.language, colors)
            view.sig_copied.connect(self.sig_copied)
            return view
        view = MessageBrowser()
        view.set_markdown(block.source)
        view.sig_copied.connect(self.sig_copied)
        return view

    @staticmethod
    def _show(view: BlockView, block: Block) -> None:
        if isinstance(view, CodeBlockView):
            view.show_code(block.code, block.language)
        else:
            view.set_markdown(block.source)

    def _add(self, view: BlockView) -> BlockView:
        self.views.append(view)
        self._column.addWidget(view)
        return view

    def _drop_live(self) -> None:
        if self._live is not None:
            self.views.remove(self._live)
            self._live.setParent(None)
            self._live.deleteLater()
            self._live = None

    def _clear(self) -> None:
        for view in self.views:
            view.setParent(None)
            view.deleteLater()
        self.views, self._live, self._stream, self._text, self._unshown = [], None, None, "", ""

    # -- reading -----------------------------------------------------------------------------
    @property
    def code_blocks(self) -> tuple[str, ...]:
        """The source of each top-level code block, in order."""
        return tuple(view.source for view in self.views if isinstance(view, CodeBlockView))

    def toPlainText(self) -> str:  # noqa: N802 — named like Qt's text views
        return "\n\n".join(view.code if isinstance(view, CodeBlockView) else view.toPlainText() for view in self.views)

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 — Qt override
        """A new palette (the desktop turned dark): a finished message is built again in its colours. A child
        widget hears PaletteChange; ApplicationPaletteChange reaches only windows."""
        super().changeEvent(event)
        palette_events = (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange)
        if event.type() in palette_events and self._stream is None and self.views:
            if chat_colors(QGuiApplication.palette()) != self._colors:
                self.set_markdown(self._text)
