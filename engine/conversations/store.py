"""Conversations and messages in SQLite (stdlib sqlite3, WAL): survives restarts and crashes mid-answer.

Used from the UI thread only. Every write is one short transaction (WAL + synchronous=NORMAL keeps it
well under a millisecond), so saving a streamed answer now and then never stalls the window.
"""

from __future__ import annotations

import sqlite3
import time
import uuid
from dataclasses import astuple, dataclass, fields, replace
from pathlib import Path
from typing import Any

from engine.conversations import parts_json
from engine.conversations.images import ImageFolder
from engine.conversations.model import INTERRUPTED, STREAMING, Conversation, MessageTree, StoredMessage
from engine.conversations.schema import prepare
from engine.messages import Image, Message

CONVERSATION_COLUMNS = ", ".join(f.name for f in fields(Conversation))
MESSAGE_COLUMNS = [f.name for f in fields(StoredMessage)]
STAT_COLUMNS = set(MESSAGE_COLUMNS) - {"id", "conversation_id", "parent_id", "role", "created"}


def open_store(path: Path) -> tuple[ConversationStore, str | None]:
    """The store at `path`; an unreadable database is moved aside (never deleted) and a fresh one started,
    with a message for the user saying where the old file went."""
    try:
        return ConversationStore(path), None
    except sqlite3.DatabaseError as e:
        aside = path.with_name(f"{path.name}.unreadable-{time.strftime('%Y%m%d-%H%M%S')}")
        path.rename(aside)
        for suffix in ("-wal", "-shm"):
            path.with_name(path.name + suffix).unlink(missing_ok=True)
        notice = f"The conversation history could not be read ({e}); it was moved to {aside} and a new one started."
        return ConversationStore(path), notice


def new_id() -> str:
    return uuid.uuid4().hex


class StoreError(Exception):
    pass


@dataclass(frozen=True)
class CloudTotals:
    answers: int
    prompt_tokens: int
    answer_tokens: int
    cost: float
    """Estimated US dollars."""
    last_tps: float
    """Answer tokens per second of the latest cloud answer."""


class ConversationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.images = ImageFolder(path.parent / "images")
        """Attached images, one file each by digest, beside the database."""
        self._db = sqlite3.connect(path, isolation_level=None)
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            prepare(self._db, path)  # before foreign keys are on: an upgrade rebuilds tables
        except sqlite3.DatabaseError:
            self._db.close()
            raise
        self._db.execute("PRAGMA foreign_keys=ON")
        self._db.create_function("message_text", 1, parts_json.text_of, deterministic=True)
        self._recover()

    def _recover(self) -> None:
        """An answer still 'streaming' at start-up was cut off by a crash: keep it, marked interrupted."""
        self._db.execute("UPDATE messages SET finish_reason=? WHERE finish_reason=?", (INTERRUPTED, STREAMING))
        self.purge_deleted()

    def close(self) -> None:
        self._db.close()

    # -- conversations -----------------------------------------------------------------------
    def create_conversation(self, title: str = "New chat", system_prompt: str = "") -> Conversation:
        now = time.time()
        conversation = Conversation(new_id(), title, system_prompt, now, now, None)
        values = astuple(conversation)
        self._db.execute(
            f"INSERT INTO conversations ({CONVERSATION_COLUMNS}) VALUES ({', '.join('?' * len(values))})", values
        )
        return conversation

    def conversation(self, conversation_id: str) -> Conversation:
        row = self._db.execute(
            f"SELECT {CONVERSATION_COLUMNS} FROM conversations WHERE id=? AND NOT deleted", (conversation_id,)
        ).fetchone()
        if row is None:
            raise StoreError(f"no conversation {conversation_id}")
        return _conversation(row)

    def conversations(self, search: str = "") -> list[Conversation]:
        """Newest first; with `search`, those whose title or any message contains it (case-insensitive)."""
        query = f"SELECT {CONVERSATION_COLUMNS} FROM conversations c WHERE NOT deleted"
        params: tuple[Any, ...] = ()
        if search.strip():
            pattern = "%" + search.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            query += (
                " AND (title LIKE ?1 ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m"
                " WHERE m.conversation_id = c.id AND message_text(m.parts) LIKE ?1 ESCAPE '\\'))"
            )
            params = (pattern,)
        rows = self._db.execute(query + " ORDER BY updated DESC", params).fetchall()
        return [_conversation(row) for row in rows]

    def rename(self, conversation_id: str, title: str) -> None:
        self._db.execute("UPDATE conversations SET title=? WHERE id=?", (title.strip() or "Untitled", conversation_id))

    def set_system_prompt(self, conversation_id: str, system_prompt: str) -> None:
        self._db.execute("UPDATE conversations SET system_prompt=? WHERE id=?", (system_prompt, conversation_id))

    def set_thinking(self, conversation_id: str, thinking: bool | None) -> None:
        self._db.execute("UPDATE conversations SET thinking=? WHERE id=?", (thinking, conversation_id))

    def set_routing(self, conversation_id: str, route_mode: str, private: bool) -> None:
        """Who answers in this conversation (engine/cloud/route.py's modes), and whether it is private."""
        self._db.execute("UPDATE conversations SET route_mode=?, private=? WHERE id=?", (route_mode, private, conversation_id))

    def cloud_usage(self) -> CloudTotals:
        """What the cloud answered over every conversation: answers, tokens, estimated cost, the last one's speed."""
        count, prompt, answer, cost = self._db.execute(
            "SELECT COUNT(*), TOTAL(prompt_tokens), TOTAL(generated_tokens), TOTAL(cost) FROM messages "
            "WHERE provider IS NOT NULL"
        ).fetchone()
        last = self._db.execute(
            "SELECT generation_tps FROM messages WHERE provider IS NOT NULL ORDER BY created DESC LIMIT 1"
        ).fetchone()
        return CloudTotals(int(count), int(prompt), int(answer), float(cost), last[0] if last else 0.0)

    def delete(self, conversation_id: str) -> None:
        """Hide a conversation; `undelete` brings it back until `purge_deleted` runs."""
        self._db.execute("UPDATE conversations SET deleted=1 WHERE id=?", (conversation_id,))

    def undelete(self, conversation_id: str) -> None:
        self._db.execute("UPDATE conversations SET deleted=0 WHERE id=?", (conversation_id,))

    def purge_deleted(self) -> None:
        """Delete the hidden conversations for good, and the image files no message refers to any more."""
        self._db.execute("DELETE FROM conversations WHERE deleted")
        self.images.keep_only(self._image_digests())

    def _image_digests(self) -> set[str]:
        rows = self._db.execute("SELECT parts FROM messages WHERE parts LIKE '%\"image\"%'")
        return {part.sha256 for (parts,) in rows for part in parts_json.decode(parts) if isinstance(part, Image)
                and part.sha256}

    # -- messages ----------------------------------------------------------------------------
    def add_message(self, conversation_id: str, parent_id: str | None, message: Message, **stats: Any) -> StoredMessage:
        """Append a message under `parent_id` and make it the conversation's current leaf."""
        parts = self.images.stored(message.parts)
        stored = StoredMessage(new_id(), conversation_id, parent_id, message.role, parts, time.time(), **stats)
        values = [getattr(stored, name) for name in MESSAGE_COLUMNS]
        values[MESSAGE_COLUMNS.index("parts")] = parts_json.encode(stored.parts)
        with self._db:
            self._db.execute("BEGIN")
            self._db.execute(
                f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) VALUES ({', '.join('?' * len(values))})", values
            )
            self._set_leaf(conversation_id, stored.id, stored.created)
        return replace(stored, parts=self.images.resolved(parts))

    def update_message(self, message_id: str, **values: Any) -> None:
        """Change a message's parts, finish reason or stats (e.g. as an answer streams in)."""
        unknown = set(values) - STAT_COLUMNS
        if unknown:
            raise StoreError(f"cannot update {', '.join(sorted(unknown))}")
        if "parts" in values:
            values["parts"] = parts_json.encode(self.images.stored(values["parts"]))
        assignments = ", ".join(f"{name}=?" for name in values)
        self._db.execute(f"UPDATE messages SET {assignments} WHERE id=?", (*values.values(), message_id))

    def message(self, message_id: str) -> StoredMessage:
        row = self._db.execute(f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages WHERE id=?", (message_id,)).fetchone()
        if row is None:
            raise StoreError(f"no message {message_id}")
        return self._stored(row)

    def tree(self, conversation_id: str) -> MessageTree:
        rows = self._db.execute(
            f"SELECT {', '.join(MESSAGE_COLUMNS)} FROM messages WHERE conversation_id=? ORDER BY created, rowid",
            (conversation_id,),
        ).fetchall()
        return MessageTree.of([self._stored(row) for row in rows])

    def thread(self, conversation_id: str) -> list[StoredMessage]:
        """The messages the user sees: root to the current leaf."""
        return self.tree(conversation_id).path_to(self.conversation(conversation_id).current_leaf)

    def _stored(self, row: tuple[Any, ...]) -> StoredMessage:
        values = dict(zip(MESSAGE_COLUMNS, row))
        values["parts"] = self.images.resolved(parts_json.decode(values["parts"]))
        return StoredMessage(**values)

    def set_leaf(self, conversation_id: str, message_id: str | None) -> None:
        self._set_leaf(conversation_id, message_id, None)

    def _set_leaf(self, conversation_id: str, message_id: str | None, updated: float | None) -> None:
        if updated is None:
            self._db.execute("UPDATE conversations SET current_leaf=? WHERE id=?", (message_id, conversation_id))
        else:
            self._db.execute(
                "UPDATE conversations SET current_leaf=?, updated=? WHERE id=?", (message_id, updated, conversation_id)
            )


def _conversation(row: tuple[Any, ...]) -> Conversation:
    values = dict(zip(CONVERSATION_COLUMNS.split(", "), row))
    thinking = values["thinking"]
    values.update(thinking=None if thinking is None else bool(thinking), private=bool(values["private"]))
    return Conversation(**values)
