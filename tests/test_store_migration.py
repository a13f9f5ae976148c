"""Upgrading a conversation database written by an older Cabin: nothing lost, the old file kept, typed parts after."""

from __future__ import annotations

import hashlib
import shutil
import sqlite3
from pathlib import Path

import pytest

from engine.conversations.schema import SCHEMA_VERSION
from engine.conversations.store import ConversationStore, open_store
from engine.messages import Message, Reasoning, Text, ToolCall, ToolResult, assistant, user

VERSION_1 = """
CREATE TABLE IF NOT EXISTS conversations (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    system_prompt TEXT NOT NULL DEFAULT '',
    created REAL NOT NULL,
    updated REAL NOT NULL,
    current_leaf TEXT,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    conversation_id TEXT NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    parent_id TEXT REFERENCES messages(id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created REAL NOT NULL,
    model TEXT,
    finish_reason TEXT,
    generated_tokens INTEGER NOT NULL DEFAULT 0,
    generation_tps REAL NOT NULL DEFAULT 0,
    ttft REAL NOT NULL DEFAULT 0,
    prompt_tokens INTEGER NOT NULL DEFAULT 0,
    cached_tokens INTEGER NOT NULL DEFAULT 0,
    error TEXT
);
CREATE INDEX IF NOT EXISTS messages_by_conversation ON messages(conversation_id, created);
"""
"""The schema as Cabin wrote it before typed parts (user_version 1), copied here so the test never drifts."""

MESSAGES = [
    # id, parent, role, content, created, model, finish_reason, generated, tps, ttft, prompt, cached, error
    ("q1", None, "user", "What is 100% of “rain”?\nSay it twice.", 1.0, None, None, 0, 0.0, 0.0, 0, 0, None),
    ("a1", "q1", "assistant", "Rain, rain. 🌧", 2.0, "tiny-llama", "stop", 5, 41.5, 0.25, 19, 0, None),
    ("a2", "q1", "assistant", "", 3.0, "tiny-llama", "error", 0, 0.0, 0.0, 19, 19, "generation failed: boom"),
    ("q2", "a1", "user", "And snow?", 4.0, None, None, 0, 0.0, 0.0, 0, 0, None),
    ("a3", "q2", "assistant", "Snow is fro", 5.0, "tiny-llama", "streaming", 3, 30.0, 0.5, 40, 30, None),
]


@pytest.fixture
def version_1_database(tmp_path: Path) -> Path:
    """A database as the old code left it: two conversations (one deleted), a branch, an answer cut off mid-way."""
    path = tmp_path / "old" / "conversations.sqlite3"
    path.parent.mkdir()
    db = sqlite3.connect(path)
    db.executescript(VERSION_1)
    db.execute("PRAGMA user_version=1")
    db.execute("INSERT INTO conversations VALUES ('c1', 'Weather', 'Be brief.', 1.0, 5.0, 'a3', 0)")
    db.execute("INSERT INTO conversations VALUES ('c2', 'Gone', '', 6.0, 6.0, NULL, 1)")
    db.executemany("INSERT INTO messages VALUES (?, 'c1', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", MESSAGES)
    db.commit()
    db.close()
    return path


@pytest.fixture
def copy_of_it(version_1_database: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "conversations.sqlite3"
    shutil.copyfile(version_1_database, copy)
    return copy


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_every_message_and_its_stats_survive_the_upgrade(copy_of_it: Path) -> None:
    store = ConversationStore(copy_of_it)
    tree = store.tree("c1")
    store.close()
    upgraded = [
        (m.id, m.parent_id, m.role, m.text, m.created, m.model, m.finish_reason, m.generated_tokens,
         m.generation_tps, m.ttft, m.prompt_tokens, m.cached_tokens, m.error)
        for m in tree.messages.values()
    ]
    streaming_then_interrupted = [row if row[0] != "a3" else (*row[:6], "interrupted", *row[7:]) for row in MESSAGES]
    assert upgraded == streaming_then_interrupted


def test_text_becomes_one_text_part_and_empty_text_none(copy_of_it: Path) -> None:
    store = ConversationStore(copy_of_it)
    question, failed = store.message("q1"), store.message("a2")
    store.close()
    assert question.parts == (Text("What is 100% of “rain”?\nSay it twice."),)
    assert failed.parts == ()


def test_the_conversations_branches_and_current_leaf_are_kept(copy_of_it: Path) -> None:
    store = ConversationStore(copy_of_it)
    conversation = store.conversation("c1")
    thread = [m.id for m in store.thread("c1")]
    siblings = [m.id for m in store.tree("c1").siblings(store.message("a2"))]
    store.close()
    assert (conversation.title, conversation.system_prompt, conversation.current_leaf) == ("Weather", "Be brief.", "a3")
    assert thread == ["q1", "a1", "q2", "a3"] and siblings == ["a1", "a2"]


def test_search_still_finds_words_inside_upgraded_messages(copy_of_it: Path) -> None:
    store = ConversationStore(copy_of_it)
    found = [c.id for c in store.conversations("“RAIN”")], store.conversations("type")
    store.close()
    assert found == (["c1"], [])


def test_the_old_database_is_backed_up_untouched_beside_the_upgraded_one(version_1_database: Path, copy_of_it: Path) -> None:
    before = digest(version_1_database)
    ConversationStore(copy_of_it).close()
    [backup] = copy_of_it.parent.glob("conversations.sqlite3.v1-backup-*")
    old = sqlite3.connect(backup)
    rows = old.execute("SELECT id, parent_id, role, content, created, model, finish_reason, generated_tokens, "
                       "generation_tps, ttft, prompt_tokens, cached_tokens, error FROM messages ORDER BY rowid").fetchall()
    version = old.execute("PRAGMA user_version").fetchone()[0]
    old.close()
    assert (version, rows) == (1, MESSAGES)
    assert digest(version_1_database) == before


def test_an_upgraded_database_is_at_the_current_version_and_opens_again_without_a_second_backup(copy_of_it: Path) -> None:
    ConversationStore(copy_of_it).close()
    ConversationStore(copy_of_it).close()
    db = sqlite3.connect(copy_of_it)
    version = db.execute("PRAGMA user_version").fetchone()[0]
    columns = [row[1] for row in db.execute("PRAGMA table_info(messages)")]
    problems = db.execute("PRAGMA foreign_key_check").fetchall()
    db.close()
    assert version == SCHEMA_VERSION and "parts" in columns and "content" not in columns and problems == []
    assert len(list(copy_of_it.parent.glob("*.v1-backup-*"))) == 1


def test_deleting_a_conversation_after_the_upgrade_still_removes_its_messages(copy_of_it: Path) -> None:
    store = ConversationStore(copy_of_it)
    store.delete("c1")
    store.purge_deleted()
    store.close()
    db = sqlite3.connect(copy_of_it)
    assert db.execute("SELECT count(*) FROM messages").fetchone() == (0,)
    db.close()


def test_a_database_from_a_newer_cabin_is_moved_aside_not_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "conversations.sqlite3"
    db = sqlite3.connect(path)
    db.execute("PRAGMA user_version=99")
    db.close()
    store, notice = open_store(path)
    store.close()
    [aside] = tmp_path.glob("conversations.sqlite3.unreadable-*")
    assert "newer Cabin" in notice and str(aside) in notice


def test_typed_parts_are_stored_and_read_back(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.create_conversation()
    call = Message("assistant", (Reasoning("Look it up."), Text("Checking."), ToolCall("call_1", "weather", '{"city": "Oslo"}')))
    asked = store.add_message(c.id, None, user("Weather in Oslo?"))
    called = store.add_message(c.id, asked.id, call)
    result = store.add_message(c.id, called.id, Message("tool", (ToolResult("call_1", "rain, 4 °C", "weather"),)))
    store.add_message(c.id, result.id, assistant("Rain and 4 °C."))
    thread = [m.message for m in store.thread(c.id)]
    store.close()
    assert thread[1] == call and thread[2].parts == (ToolResult("call_1", "rain, 4 °C", "weather"),)


def drop_routing_columns(db: sqlite3.Connection) -> None:
    """What version 4 added (hybrid routing), taken off again to make an older database."""
    for table, column in (("conversations", "route_mode"), ("conversations", "private"), ("messages", "provider"),
                          ("messages", "route"), ("messages", "cost")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")


def test_a_version_2_database_gains_an_unset_think_switch_per_conversation(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    c = store.create_conversation("Kept")
    store.close()
    db = sqlite3.connect(path)
    db.execute("ALTER TABLE conversations DROP COLUMN thinking")
    db.execute("ALTER TABLE messages DROP COLUMN thinking_time")
    drop_routing_columns(db)
    db.execute("PRAGMA user_version=2")
    db.commit()
    db.close()
    store = ConversationStore(path)
    before = store.conversation(c.id)
    store.set_thinking(c.id, False)
    after = store.conversation(c.id)
    store.close()
    assert (before.title, before.thinking, after.thinking) == ("Kept", None, False)


def test_an_answer_keeps_its_thinking_apart_and_how_long_it_took(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.create_conversation()
    asked = store.add_message(c.id, None, user("Capital of France?"))
    answer = store.add_message(c.id, asked.id, assistant(""))
    store.update_message(answer.id, parts=(Reasoning("France: Paris."), Text("Paris.")), thinking_time=12.5)
    stored = store.message(answer.id)
    store.close()
    assert (stored.reasoning, stored.text, stored.thinking_time) == ("France: Paris.", "Paris.", 12.5)
