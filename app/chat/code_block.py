"""A code block in a message: a header row (language, Copy) over the code in monospace, highlighted line by
line, never wrapped: long lines scroll sideways inside the block, so the message keeps its width.

While an answer streams, the block being written grows by insertion at its end (no re-render), and Qt's
highlighter colours only the lines that changed: a frame costs the new text, not the block's length.
"""

from __future__ import annotations

from functools import lru_cache

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontDatabase,
    QGuiApplication,
    QSyntaxHighlighter,
    QTextCharFormat,
    QTextCursor,
    QTextDocument,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPlainTextEdit, QSizePolicy, QToolButton, QVBoxLayout
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.styles import get_style_by_name
from pygments.util import ClassNotFound

from app.chat.markdown import Colors

COPIED_FOR_MS = 1500
"""How long the Copy button says "Copied"."""


def utf16_length(text: str) -> int:
    """Length as Qt counts text positions."""
    return len(text.encode("utf-16-le")) // 2


@lru_cache(maxsize=64)
def lexer_for(language: str) -> Lexer | None:
    try:
        return get_lexer_by_name(language) if language else None
    except ClassNotFound:
        return None


class LineHighlighter(QSyntaxHighlighter):
    """Pygments colours, one line at a time: Qt calls this only for lines that changed, which keeps a growing
    block cheap. A line is lexed on its own, so a string spanning lines is coloured as code after its first line."""

    def __init__(self, document: QTextDocument, language: str, dark: bool) -> None:
        super().__init__(document)
        self._lexer = lexer_for(language)
        self._style = get_style_by_name("github-dark" if dark else "default")
        self._formats: dict[tuple, QTextCharFormat | None] = {}
        """Per Pygments token type (a tuple such as Token.Keyword), its format; None for plain text."""

    def set_language(self, language: str) -> None:
        lexer = lexer_for(language)
        if lexer is not self._lexer:
            self._lexer = lexer
            self.rehighlight()

    def highlightBlock(self, text: str) -> None:  # noqa: N802 — Qt override
        if self._lexer is None or not text:
            return
        position = 0  # in UTF-16 units, as Qt counts: an emoji is two
        for _index, token_type, value in self._lexer.get_tokens_unprocessed(text):
            length = utf16_length(value)
            text_format = self._format(token_type)
            if text_format is not None:
                self.setFormat(position, length, text_format)
            position += length

    def _format(self, token_type: tuple) -> QTextCharFormat | None:
        if token_type not in self._formats:
            style = self._style.style_for_token(token_type)
            text_format = QTextCharFormat()
            if style["color"]:
                text_format.setForeground(QColor(f"#{style['color']}"))
            if style["bold"]:
                text_format.setFontWeight(QFont.Weight.Bold)
            if style["italic"]:
                text_format.setFontItalic(True)
            self._formats[token_type] = None if text_format.isEmpty() else text_format
        return self._formats[token_type]


class CodeText(QPlainTextEdit):
    """The code itself: read-only, no wrapping, as tall as its lines (plus the sideways scroll bar when a
    line is wider than the block), so only the chat scrolls up and down."""

    def __init__(self) -> None:
        super().__init__()
        self.setReadOnly(True)
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.NoWrap)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.blockCountChanged.connect(self._fit_height)
        self.horizontalScrollBar().rangeChanged.connect(self._fit_height)
        self._fit_height()

    def lines(self) -> int:
        """Lines shown: the empty line after a final newline does not count."""
        document = self.document()
        return max(1, document.blockCount() - (document.lastBlock().length() == 1 and document.blockCount() > 1))

    def _fit_height(self, *_args: object) -> None:
        bar = self.horizontalScrollBar()
        scroll = bar.sizeHint().height() if bar.maximum() > 0 else 0
        frame = self.contentsMargins()
        margin = 2 * self.document().documentMargin() + frame.top() + frame.bottom()
        self.setFixedHeight(int(self.lines() * self.fontMetrics().lineSpacing() + margin + scroll))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 — Qt override
        """A style sheet or font applied after construction changes the margins or the line height."""
        super().changeEvent(event)
        if event.type() in (QEvent.Type.StyleChange, QEvent.Type.FontChange):
            self._fit_height()

    def wheelEvent(self, event) -> None:  # noqa: N802 — Qt override
        """Sideways wheel scrolls the code; up and down is for the chat around it."""
        delta = event.angleDelta()
        if abs(delta.x()) > abs(delta.y()):
            super().wheelEvent(event)
        else:
            event.ignore()


class CodeBlockView(QFrame):
    sig_copied = Signal(str)
    """The code the user copied with this block's Copy button."""

    def __init__(self, code: str, language: str, colors: Colors) -> None:
        super().__init__()
        self.setObjectName("codeBlock")
        self.code = ""
        self.language = QLabel()
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy this code")
        self.copy_button.setAutoRaise(True)
        self.copy_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.copy_button.clicked.connect(self._copy)
        self.text = CodeText()
        self.highlighter = LineHighlighter(self.text.document(), language, colors.dark)
        self._end = QTextCursor(self.text.document())
        self._layout(colors)
        self.show_code(code, language)

    def _layout(self, colors: Colors) -> None:
        header = QHBoxLayout()
        header.setContentsMargins(10, 2, 4, 2)
        header.addWidget(self.language)
        header.addStretch()
        header.addWidget(self.copy_button)
        column = QVBoxLayout(self)
        column.setContentsMargins(1, 1, 1, 1)
        column.setSpacing(0)
        column.addLayout(header)
        column.addWidget(self.text)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setStyleSheet(
            f"QFrame#codeBlock {{ background: {colors.code_header}; border: 1px solid {colors.border};"
            f" border-radius: 6px; }}"
            f" QFrame#codeBlock QLabel {{ color: {colors.muted}; }}"
            f" QFrame#codeBlock QToolButton {{ color: {colors.link}; }}"
            f" QFrame#codeBlock QPlainTextEdit {{ background: {colors.code_background}; color: {colors.text};"
            f" border: none; border-bottom-left-radius: 6px; border-bottom-right-radius: 6px; padding: 2px 6px; }}"
        )

    def show_code(self, code: str, language: str) -> None:
        """Show `code`: text that extends what is shown is inserted at the end (the streaming case), and a
        shorter ending is cut, so lines already shown (and highlighted) stay as they are."""
        if self.language.text() != (language or "code"):
            self.language.setText(language or "code")
            self.highlighter.set_language(language)
        shown = code.removesuffix("\n")
        if shown == self.code:
            return
        if shown.startswith(self.code):
            self._end.movePosition(QTextCursor.MoveOperation.End)
            self._end.insertText(shown[len(self.code) :])
        elif self.code.startswith(shown):  # the "``" that was the start of the closing fence
            self._end.movePosition(QTextCursor.MoveOperation.End)
            surplus = utf16_length(self.code[len(shown) :])
            self._end.setPosition(self._end.position() - surplus, QTextCursor.MoveMode.KeepAnchor)
            self._end.removeSelectedText()
        else:
            self.text.setPlainText(shown)
            self._end = QTextCursor(self.text.document())
        self.code = shown

    @property
    def source(self) -> str:
        """The code as written (what Copy puts on the clipboard)."""
        return self.code + "\n"

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.source)
        self.sig_copied.emit(self.source)
        self.copy_button.setText("Copied")
        QTimer.singleShot(COPIED_FOR_MS, self.copy_button, self._copy_done)

    def _copy_done(self) -> None:
        self.copy_button.setText("Copy")
