"""The document index's records: libraries, the folders and files added to them, each file's state and note,
its chunks (with their FTS5 rows and vectors), which conversations use which library, and each answer's citations.

A LibraryStore is one connection: use it from the thread that opened it (the indexer and the engine's worker
open their own). Writing a file's chunks, their BM25 rows and vectors, and its new state is one transaction,
so an index interrupted mid-way (quit, crash) holds each file either wholly as before or wholly as after.
"""

from __future__ import annotations

import struct
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engine.errors import CabinError
from engine.library.chunker import Chunk
from engine.library.database import connect, vector_table

PENDING, INDEXED, SKIPPED = "pending", "indexed", "skipped"


class LibraryError(CabinError):
    """A library that does not exist, or a name already taken; one line."""


@dataclass(frozen=True)
class Library:
    id: int
    name: str
    encoder: str
    """The embedding model's folder its vectors were made with."""
    dims: int | None


@dataclass(frozen=True)
class Source:
    path: str
    note: str | None


@dataclass(frozen=True)
class FileRecord:
    id: int
    path: str
    size: int
    mtime: float
    sha256: str | None
    state: str
    note: str | None


@dataclass(frozen=True)
class Citation:
    """A chunk an answer was given, as shown under it: the file, its page, and the start of the excerpt."""

    rank: int
    path: str
    page: int | None
    score: float
    excerpt: str

    @property
    def label(self) -> str:
        name = Path(self.path).name
        return f"{name}, p. {self.page}" if self.page is not None else name


@dataclass(frozen=True)
class Summary:
    indexed: int
    skipped: int
    pending: int
    chunks: int


def packed(vector: Sequence[float]) -> bytes:
    """sqlite-vec's float32 vector format: little-endian floats."""
    return struct.pack(f"<{len(vector)}f", *vector)


class LibraryStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.db = connect(path)

    def close(self) -> None:
        self.db.close()

    # -- libraries ---------------------------------------------------------------------------
    def create(self, name: str, encoder: Path) -> Library:
        name = name.strip()
        if not name:
            raise LibraryError("a library needs a name")
        if self.find(name) is not None:
            raise LibraryError(f"there is already a library named {name!r}")
        self.db.execute("INSERT INTO libraries (name, encoder, created) VALUES (?, ?, ?)",
                        (name, str(encoder), time.time()))  # fmt: skip
        return self.named(name)

    def find(self, name: str) -> Library | None:
        row = self.db.execute("SELECT id, name, encoder, dims FROM libraries WHERE name=?", (name,)).fetchone()
        return Library(*row) if row else None

    def named(self, name: str) -> Library:
        library = self.find(name)
        if library is None:
            known = ", ".join(lib.name for lib in self.libraries()) or "none yet"
            raise LibraryError(f"no library named {name!r} (libraries: {known})")
        return library

    def by_id(self, library_id: int) -> Library:
        row = self.db.execute("SELECT id, name, encoder, dims FROM libraries WHERE id=?", (library_id,)).fetchone()
        if row is None:
            raise LibraryError(f"no library {library_id}")
        return Library(*row)

    def libraries(self) -> list[Library]:
        rows = self.db.execute("SELECT id, name, encoder, dims FROM libraries ORDER BY name").fetchall()
        return [Library(*row) for row in rows]

    def remove(self, library: Library) -> None:
        """The library, its files' chunks, vectors and BM25 rows, and its links to conversations."""
        with self._transaction():
            self.db.execute("DELETE FROM chunks_fts WHERE rowid IN (SELECT c.id FROM chunks c JOIN files f "
                            "ON f.id = c.file_id WHERE f.library_id=?)", (library.id,))  # fmt: skip
            self.db.execute(f"DROP TABLE IF EXISTS {vector_table(library.id)}")
            self.db.execute("DELETE FROM libraries WHERE id=?", (library.id,))

    # -- what it holds -----------------------------------------------------------------------
    def add_source(self, library: Library, path: Path) -> None:
        self.db.execute("INSERT OR IGNORE INTO sources (library_id, path) VALUES (?, ?)",
                        (library.id, str(path.expanduser().resolve())))  # fmt: skip

    def remove_source(self, library: Library, path: Path) -> bool:
        """Whether it was there; its files leave the index at the next indexing."""
        cursor = self.db.execute("DELETE FROM sources WHERE library_id=? AND path=?",
                                 (library.id, str(path.expanduser().resolve())))  # fmt: skip
        return cursor.rowcount > 0

    def sources(self, library: Library) -> list[Source]:
        rows = self.db.execute("SELECT path, note FROM sources WHERE library_id=? ORDER BY path", (library.id,))
        return [Source(*row) for row in rows.fetchall()]

    def set_source_note(self, library: Library, path: str, note: str | None) -> None:
        self.db.execute("UPDATE sources SET note=? WHERE library_id=? AND path=?", (note, library.id, path))

    def files(self, library: Library) -> list[FileRecord]:
        rows = self.db.execute("SELECT id, path, size, mtime, sha256, state, note FROM files WHERE library_id=? "
                               "ORDER BY path", (library.id,))  # fmt: skip
        return [FileRecord(*row) for row in rows.fetchall()]

    def summary(self, library: Library) -> Summary:
        counts = dict(self.db.execute("SELECT state, count(*) FROM files WHERE library_id=? GROUP BY state",
                                      (library.id,)).fetchall())  # fmt: skip
        chunks = self.db.execute("SELECT count(*) FROM chunks c JOIN files f ON f.id = c.file_id "
                                 "WHERE f.library_id=?", (library.id,)).fetchone()[0]  # fmt: skip
        return Summary(counts.get(INDEXED, 0), counts.get(SKIPPED, 0), counts.get(PENDING, 0), chunks)

    def sync_files(self, library: Library, paths: Sequence[Path]) -> None:
        """The library's file records become exactly `paths`: new ones pending, gone ones dropped with their chunks."""
        wanted = {str(p) for p in paths}
        known = {record.path: record.id for record in self.files(library)}
        with self._transaction():
            for path, file_id in known.items():
                if path not in wanted:
                    self._drop_chunks(library, file_id)
                    self.db.execute("DELETE FROM files WHERE id=?", (file_id,))
            self.db.executemany("INSERT INTO files (library_id, path) VALUES (?, ?)",
                                [(library.id, p) for p in sorted(wanted - known.keys())])  # fmt: skip

    # -- a file's index ----------------------------------------------------------------------
    def write_chunks(self, library: Library, file_id: int, chunks: Sequence[Chunk],
                     vectors: Sequence[Sequence[float]], stamp: tuple[int, float, str]) -> Library:  # fmt: skip
        """Replace the file's chunks (text, BM25 row, vector) and mark it indexed at `stamp` (size, mtime, sha256).
        The library as it is now (its vectors' width is set by the first file written)."""
        library = self._with_dims(library, len(vectors[0]) if vectors else None)
        with self._transaction():
            self._drop_chunks(library, file_id)
            for chunk, vector in zip(chunks, vectors, strict=True):
                cursor = self.db.execute("INSERT INTO chunks (file_id, ordinal, page, text) VALUES (?, ?, ?, ?)",
                                         (file_id, chunk.ordinal, chunk.page, chunk.text))  # fmt: skip
                self.db.execute("INSERT INTO chunks_fts (rowid, text) VALUES (?, ?)", (cursor.lastrowid, chunk.text))
                self.db.execute(f"INSERT INTO {vector_table(library.id)} (rowid, embedding) VALUES (?, ?)",
                                (cursor.lastrowid, packed(vector)))  # fmt: skip
            self._stamp(file_id, INDEXED, None, stamp)
        return library

    def skip(self, library: Library, file_id: int, note: str, stamp: tuple[int, float, str | None]) -> None:
        """The file cannot be indexed: its old chunks go, and `note` says why (it is tried again once it changes)."""
        with self._transaction():
            self._drop_chunks(library, file_id)
            self._stamp(file_id, SKIPPED, note, stamp)

    def touch(self, file_id: int, size: int, mtime: float) -> None:
        """Same content under a new timestamp: remember it, so the next look is a stat again."""
        self.db.execute("UPDATE files SET size=?, mtime=? WHERE id=?", (size, mtime, file_id))

    def _stamp(self, file_id: int, state: str, note: str | None, stamp: tuple[int, float, str | None]) -> None:
        size, mtime, sha = stamp
        self.db.execute("UPDATE files SET state=?, note=?, size=?, mtime=?, sha256=? WHERE id=?",
                        (state, note, size, mtime, sha, file_id))  # fmt: skip

    def _drop_chunks(self, library: Library, file_id: int) -> None:
        ids = "SELECT id FROM chunks WHERE file_id=?"
        self.db.execute(f"DELETE FROM chunks_fts WHERE rowid IN ({ids})", (file_id,))
        if library.dims is not None:
            self.db.execute(f"DELETE FROM {vector_table(library.id)} WHERE rowid IN ({ids})", (file_id,))
        self.db.execute("DELETE FROM chunks WHERE file_id=?", (file_id,))

    def _with_dims(self, library: Library, dims: int | None) -> Library:
        current = self.by_id(library.id)
        if dims is None or current.dims is not None:
            if dims is not None and current.dims != dims:
                raise LibraryError(f"library {library.name!r} holds {current.dims}-wide vectors, not {dims}")
            return current
        self.db.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS {vector_table(library.id)} USING "
                        f"vec0(embedding float[{dims}] distance_metric=cosine)")  # fmt: skip
        self.db.execute("UPDATE libraries SET dims=? WHERE id=?", (dims, library.id))
        return self.by_id(library.id)

    def _transaction(self) -> _Transaction:
        return _Transaction(self.db)

    # -- conversations and answers -----------------------------------------------------------
    def link(self, conversation_id: str, library: Library) -> None:
        self.db.execute("INSERT OR IGNORE INTO conversation_libraries VALUES (?, ?)", (conversation_id, library.id))

    def unlink(self, conversation_id: str, library: Library) -> None:
        self.db.execute("DELETE FROM conversation_libraries WHERE conversation_id=? AND library_id=?",
                        (conversation_id, library.id))  # fmt: skip

    def linked(self, conversation_id: str) -> list[Library]:
        rows = self.db.execute(
            "SELECT l.id, l.name, l.encoder, l.dims FROM libraries l JOIN conversation_libraries c "
            "ON c.library_id = l.id WHERE c.conversation_id=? ORDER BY l.name", (conversation_id,)
        )  # fmt: skip
        return [Library(*row) for row in rows.fetchall()]

    def save_citations(self, message_id: str, citations: Sequence[Citation]) -> None:
        with self._transaction():
            self.db.execute("DELETE FROM citations WHERE message_id=?", (message_id,))
            rows = [(message_id, c.rank, c.path, c.page, c.score, c.excerpt) for c in citations]
            self.db.executemany("INSERT INTO citations VALUES (?, ?, ?, ?, ?, ?)", rows)

    def citations(self, message_id: str) -> list[Citation]:
        rows = self.db.execute("SELECT rank, path, page, score, excerpt FROM citations WHERE message_id=? "
                               "ORDER BY rank", (message_id,))  # fmt: skip
        return [Citation(*row) for row in rows.fetchall()]


class _Transaction:
    """BEGIN IMMEDIATE … COMMIT, or ROLLBACK when the block raises."""

    def __init__(self, db: Any) -> None:
        self.db = db

    def __enter__(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def __exit__(self, kind: object, *_: object) -> None:
        self.db.execute("ROLLBACK" if kind else "COMMIT")
