"""The document index's SQLite file (library.sqlite3, beside the conversation history): its schema, and a
connection with sqlite-vec loaded.

Python's own sqlite3 is often built without loadable extensions (`enable_load_extension` is missing on this
Linux build, and on some macOS Pythons), so the index opens through sqlean.py: the same DB-API module with
its own SQLite, FTS5 included, that can load sqlite-vec's extension on Linux and macOS alike. One file, no
server: chunks and their text in plain tables, BM25 in an FTS5 table, vectors in one vec0 table per library
(a library's vectors all have its encoder's width).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import CabinError

SCHEMA_VERSION = 1
SCHEMA = """
CREATE TABLE IF NOT EXISTS libraries (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    encoder TEXT NOT NULL,
    dims INTEGER,
    created REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    id INTEGER PRIMARY KEY,
    library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    note TEXT,
    UNIQUE (library_id, path)
);
CREATE TABLE IF NOT EXISTS files (
    id INTEGER PRIMARY KEY,
    library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT -1,
    mtime REAL NOT NULL DEFAULT -1,
    sha256 TEXT,
    state TEXT NOT NULL DEFAULT 'pending',
    note TEXT,
    UNIQUE (library_id, path)
);
CREATE TABLE IF NOT EXISTS chunks (
    id INTEGER PRIMARY KEY,
    file_id INTEGER NOT NULL REFERENCES files(id) ON DELETE CASCADE,
    ordinal INTEGER NOT NULL,
    page INTEGER,
    text TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS chunks_by_file ON chunks(file_id);
CREATE VIRTUAL TABLE IF NOT EXISTS chunks_fts USING fts5(text, tokenize = 'porter unicode61');
CREATE TABLE IF NOT EXISTS conversation_libraries (
    conversation_id TEXT NOT NULL,
    library_id INTEGER NOT NULL REFERENCES libraries(id) ON DELETE CASCADE,
    PRIMARY KEY (conversation_id, library_id)
);
CREATE TABLE IF NOT EXISTS citations (
    message_id TEXT NOT NULL,
    rank INTEGER NOT NULL,
    path TEXT NOT NULL,
    page INTEGER,
    score REAL NOT NULL,
    excerpt TEXT NOT NULL,
    PRIMARY KEY (message_id, rank)
);
"""


class NewerIndex(CabinError):
    """Written by a newer Cabin."""


def connect(path: Path) -> Any:
    """A connection to the index at `path` (created with its schema if new), sqlite-vec loaded, WAL on."""
    import sqlean
    import sqlite_vec

    db = sqlean.connect(str(path), isolation_level=None, timeout=30)
    db.enable_load_extension(True)
    sqlite_vec.load(db)
    db.enable_load_extension(False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA foreign_keys=ON")
    prepare(db)
    return db


def prepare(db: Any) -> None:
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerIndex(f"the document index was written by a newer Cabin (format {version})")
    if version == 0:  # IF NOT EXISTS everywhere: two connections may both find a new file
        db.executescript(f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version={SCHEMA_VERSION}; COMMIT;")

def vector_table(library_id: int) -> str:
    return f"vectors_{int(library_id)}"
