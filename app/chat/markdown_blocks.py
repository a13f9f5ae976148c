"""Markdown cut into its top-level blocks (paragraph, list, table, heading, code…), so that an answer still
streaming can show each finished block once and redo only the block being written.

Where blocks start is markdown-it's word (its block tokens' `map` lines), not a parser of our own. A
top-level block followed by the start of another is complete: nothing after it can change it (link
reference definitions aside). Only the text after the last complete block is parsed again when more
arrives, so a frame costs the size of the block being written, not of the answer.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from markdown_it import MarkdownIt

CODE_TOKENS = ("fence", "code_block")


@lru_cache(maxsize=1)
def block_parser() -> MarkdownIt:
    """The parser app/chat/markdown.py renders with: the same rules decide blocks and their HTML."""
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])


@dataclass(frozen=True)
class Block:
    source: str
    """The block's Markdown, with the blank lines after it: a message's blocks add up to its text."""
    code: str | None = None
    """A code block's text (fenced or indented); None for every other block."""
    language: str = ""
    """A fenced code block's language (the first word of its info string), "" when none is given."""

    @property
    def is_code(self) -> bool:
        return self.code is not None


def _line_starts(text: str) -> list[int]:
    starts, at = [0], text.find("\n")
    while at != -1:
        starts.append(at + 1)
        at = text.find("\n", at + 1)
    return starts


def _language(info: str, source: str) -> str:
    """The first word of a fence's info string, once its line is complete: "pyt" on the way to "python"
    is no language (and looking up each unknown prefix would cost Pygments a scan of all its lexers)."""
    if not info or "\n" not in source.lstrip("\n"):
        return ""
    return info.strip().split(" ")[0]


def split_blocks(text: str) -> list[Block]:
    """`text`'s top-level blocks in order. Blank lines before the first block belong to it."""
    tokens = [t for t in block_parser().parse(text) if t.level == 0 and t.map is not None]
    if not tokens:
        return [Block(text)] if text else []
    starts = _line_starts(text)
    offsets = [0] + [starts[t.map[0]] for t in tokens[1:]] + [len(text)]
    blocks = []
    for token, begin, end in zip(tokens, offsets, offsets[1:]):
        if token.type in CODE_TOKENS:
            source = text[begin:end]
            blocks.append(Block(source, token.content, _language(token.info, source)))
        else:
            blocks.append(Block(text[begin:end]))
    return blocks


def normalized(text: str) -> str:
    """Text as the parser counts lines: a carriage return would be a line end to it and not to `find("\\n")`."""
    return text.replace("\r", "")


class LiveMarkdown:
    """An answer as it streams: each `feed` tells which blocks have just become complete (each reported
    once, in order) and which block is being written."""

    def __init__(self) -> None:
        self.text = ""
        self._open_from = 0
        """Where the text after the last complete block starts."""

    def feed(self, delta: str) -> tuple[list[Block], Block | None]:
        self.text += normalized(delta)
        blocks = split_blocks(self.text[self._open_from :])
        complete, live = blocks[:-1], blocks[-1] if blocks else None
        self._open_from += sum(len(block.source) for block in complete)
        return complete, live
