"""The conversation database's schema, and its upgrades from older versions (`PRAGMA user_version`).

Version 1 kept each message's text in a `content` column; version 2 keeps typed parts (`parts`, JSON, see
`parts_json`); version 3 adds each conversation's Think switch (`thinking`: NULL for the model's default)
and how long each answer's model thought (`thinking_time`); version 4 adds hybrid routing: each conversation's
mode (`route_mode`: local, auto or cloud) and `private` flag, and each answer's cloud `provider`, `route` (the
label shown on it) and estimated `cost`. Before an upgrade the database is copied beside itself with SQLite's backup API (which also
takes what is still in the WAL file), then upgraded in one transaction: a crash mid-way leaves version 1.
To change the schema: bump SCHEMA_VERSION, write SCHEMA for it, and add the step from the previous version.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from engine.conversations import parts_json
from engine.messages import text_parts

SCHEMA_VERSION = 4
MESSAGES_TABLE = """
CREATE TABLE IF NOT EXISTS {name} (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    parts TEXT NOT NULL DEFAULT '[]',
    created REAL NOT NULL,
    model TEXT,
    finish_reason TEXT,
    generated_tokens INTEGER NOT NULL DEFAULT 0,
    generation_tps REAL NOT NULL DEFAULT 0,
    ttft REAL NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    thinking_time REAL NOT NULL DEFAULT 0,
    provider TEXT,
    route TEXT,
    cost REAL NOT NULL DEFAULT 0
);
"""
INDEX = "CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, created);"
SCHEMA = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    current_leaf TEXT,
    deleted INTEGER NOT NULL DEFAULT 0,
    thinking INTEGER,
    route_mode TEXT NOT NULL DEFAULT 'local',
    private INTEGER NOT NULL DEFAULT 0
);
""" + MESSAGES_TABLE.format(name="messages") + INDEX


class NewerDatabase(sqlite3.DatabaseError):
    """Written by a newer Cabin: not understood here, and not to be overwritten."""


def prepare(db: sqlite3.Connection, path: Path) -> None:
    """Create the schema in a new database, or upgrade an older one (after backing it up)."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        raise NewerDatabase(f"it was written by a newer Cabin (format {version}, this one reads {SCHEMA_VERSION})")
    if version == 0:
        with db:
            db.executescript(SCHEMA)
            db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        return
    if version < SCHEMA_VERSION:
        back_up(db, path, version)
    while version < SCHEMA_VERSION:
        with db:
            db.execute("BEGIN")
            UPGRADES[version](db)
            version += 1
            db.execute(f"PRAGMA user_version={version}")


def back_up(db: sqlite3.Connection, path: Path, version: int) -> Path:
    copy = path.with_name(f"{path.name}.v{version}-backup-{time.strftime('%Y%m%d-%H%M%S')}")
    target = sqlite3.connect(copy)
    try:
        db.backup(target)
    finally:
        target.close()
    return copy


def _content_to_parts(db: sqlite3.Connection) -> None:
    """1 → 2: each message's text becomes one text part (no part for an empty text)."""
    db.create_function("text_parts_json", 1, lambda content: parts_json.encode(text_parts(content)), deterministic=True)
    columns = ("id, conversation_id, parent_id, role, {}, created, model, finish_reason, generated_tokens, "
               "generation_tps, ttft, prompt_tokens, cached_tokens, error")
    db.execute(MESSAGES_TABLE.format(name="messages_v2"))
    db.execute(f"INSERT INTO messages_v2 ({columns.format('parts')}) "
               f"SELECT {columns.format('text_parts_json(content)')} FROM messages ORDER BY rowid")
    db.execute("DROP TABLE messages")
    db.execute("ALTER TABLE messages_v2 RENAME TO messages")
    db.execute(INDEX)


def _add_thinking(db: sqlite3.Connection) -> None:
    """2 → 3: conversations get a Think switch, unset (the model's default), and answers a thinking time.

    A database upgraded from version 1 in the same run already has the messages' column (1 → 2 builds
    the table as it is today)."""
    db.execute("ALTER TABLE conversations ADD COLUMN thinking INTEGER")
    if "thinking_time" not in {row[1] for row in db.execute("PRAGMA table_info(messages)")}:
        db.execute("ALTER TABLE messages ADD COLUMN thinking_time REAL NOT NULL DEFAULT 0")


ROUTING_COLUMNS = {"provider": "TEXT", "route": "TEXT", "cost": "REAL NOT NULL DEFAULT 0"}


def _add_routing(db: sqlite3.Connection) -> None:
    """3 → 4: every existing conversation stays Local only and not private; answers get their (empty) cloud
    provider, route label and cost (unless 1 → 2 in the same run already built the table with them)."""
    db.execute("ALTER TABLE conversations ADD COLUMN route_mode TEXT NOT NULL DEFAULT 'local'")
    db.execute("ALTER TABLE conversations ADD COLUMN private INTEGER NOT NULL DEFAULT 0")
    present = {row[1] for row in db.execute("PRAGMA table_info(messages)")}
    for name, kind in ROUTING_COLUMNS.items():
        if name not in present:
            db.execute(f"ALTER TABLE messages ADD COLUMN {name} {kind}")


UPGRADES: dict[int, Callable[[sqlite3.Connection], None]] = {1: _content_to_parts, 2: _add_thinking, 3: _add_routing}
