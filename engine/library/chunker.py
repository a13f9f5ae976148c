"""Pages cut into overlapping chunks of words, each remembering its page, for embedding and BM25 alike.

A chunk never spans two pages, so a citation's page is exact. Sizes are in words, not tokens: a sentence
encoder reads at most 256-512 tokens, and ~180 English words stay under 256 word pieces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from engine.library.readers import Page

CHUNK_WORDS = 180
OVERLAP_WORDS = 30


@dataclass(frozen=True)
class Chunk:
    ordinal: int
    """Its place in the document, from 0."""
    page: int | None
    text: str


def chunk_pages(pages: Iterable[Page], size: int = CHUNK_WORDS, overlap: int = OVERLAP_WORDS) -> list[Chunk]:
    """Windows of `size` words stepping by `size - overlap`, page by page; whitespace is normalised."""
    step = max(1, size - overlap)
    chunks: list[Chunk] = []
    for page in pages:
        words = re.split(r"\s+", page.text.strip())
        for start in range(0, max(1, len(words) - overlap), step):
            text = " ".join(words[start : start + size])
            if text:
                chunks.append(Chunk(len(chunks), page.number, text))
    return chunks
