"""A question's best chunks in some libraries: BM25 (FTS5) and vector (sqlite-vec, cosine) rankings, fused by
reciprocal rank (each list adds 1 / (60 + rank) to a chunk's score, the constant of Cormack et al. 2009).

Either list alone works: a query with no word in the index still has its nearest vectors, and a library
whose vectors are missing (none written yet) still has BM25.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.library.database import vector_table
from engine.library.store import Library, packed

RRF_K = 60
CANDIDATES = 50
"""How deep each ranking is read before fusing."""


@dataclass(frozen=True)
class Hit:
    chunk_id: int
    path: str
    page: int | None
    text: str
    score: float


STOP_WORDS = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in into is it its me my no "
    "not of on or our so than that the their them then there these they this to was we were what when where which "
    "who whom why will with would you your".split()
)
"""Left out of BM25 queries: OR-ed in, they rank any chunk holding them, and the fusion would rank that
chunk beside the vectors' best (the labelled set's paraphrased recall@5 fell from 0.92 to 0.67 with them)."""


def match_expression(query: str) -> str | None:
    """The query's words but stop words as an FTS5 OR of quoted terms (no FTS5 syntax reaches SQLite); None
    without any."""
    words = [word for word in re.findall(r"\w+", query.lower()) if word not in STOP_WORDS]
    return " OR ".join(f'"{word}"' for word in dict.fromkeys(words)) or None


def bm25_ranking(db: Any, libraries: Sequence[Library], query: str, limit: int = CANDIDATES) -> list[int]:
    """Chunk ids, best BM25 first."""
    expression = match_expression(query)
    if expression is None or not libraries:
        return []
    marks = ", ".join("?" * len(libraries))
    rows = db.execute(
        f"SELECT chunks_fts.rowid FROM chunks_fts JOIN chunks c ON c.id = chunks_fts.rowid JOIN files f "
        f"ON f.id = c.file_id WHERE chunks_fts MATCH ? AND f.library_id IN ({marks}) "
        f"ORDER BY bm25(chunks_fts) LIMIT ?", (expression, *[lib.id for lib in libraries], limit)
    )  # fmt: skip
    return [row[0] for row in rows.fetchall()]


def vector_ranking(db: Any, libraries: Sequence[Library], vectors: dict[str, list[float]],
                   limit: int = CANDIDATES) -> list[int]:  # fmt: skip
    """Chunk ids, nearest first, across libraries; `vectors` holds the query's vector per encoder."""
    found: list[tuple[float, int]] = []
    for library in libraries:
        vector = vectors.get(library.encoder)
        if library.dims is None or vector is None:
            continue
        rows = db.execute(f"SELECT rowid, distance FROM {vector_table(library.id)} WHERE embedding MATCH ? "
                          f"AND k = ?", (packed(vector), limit))  # fmt: skip
        found += [(distance, rowid) for rowid, distance in rows.fetchall()]
    return [rowid for _distance, rowid in sorted(found)[:limit]]


def fuse(*rankings: Sequence[int]) -> list[tuple[int, float]]:
    """Reciprocal-rank fusion: (chunk id, score), best first."""
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, chunk_id in enumerate(ranking, start=1):
            scores[chunk_id] = scores.get(chunk_id, 0.0) + 1.0 / (RRF_K + rank)
    return sorted(scores.items(), key=lambda item: -item[1])


def search(db: Any, libraries: Sequence[Library], query: str, embed: Callable[[str, str], list[float]] | None,
           k: int = 5) -> list[Hit]:  # fmt: skip
    """The `k` best chunks for `query`. `embed(encoder, text)` gives the query's vector for a library's encoder
    (None: BM25 alone)."""
    vectors = {} if embed is None else {lib.encoder: embed(lib.encoder, query) for lib in libraries if lib.dims}
    fused = fuse(bm25_ranking(db, libraries, query), vector_ranking(db, libraries, vectors))[:k]
    return [hit for chunk_id, score in fused if (hit := _hit(db, chunk_id, score)) is not None]


def _hit(db: Any, chunk_id: int, score: float) -> Hit | None:
    row = db.execute("SELECT f.path, c.page, c.text FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id=?",
                     (chunk_id,)).fetchone()  # fmt: skip
    return None if row is None else Hit(chunk_id, row[0], row[1], row[2], score)
