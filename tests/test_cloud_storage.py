"""Conversations keep their routing mode and private flag; cloud answers keep their provider, route and cost;
a version 3 database (before routing) opens, every conversation Local only."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from engine.conversations.schema import SCHEMA_VERSION
from engine.conversations.store import CloudTotals, ConversationStore
from engine.messages import assistant, user


def test_a_new_conversation_is_local_only_and_not_private(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.conversation(store.create_conversation().id)
    assert (c.route_mode, c.private) == ("local", False)


def test_mode_and_private_flag_are_kept(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    c = store.create_conversation()
    store.set_routing(c.id, "auto", True)
    store.close()
    again = ConversationStore(path).conversation(c.id)
    assert (again.route_mode, again.private) == ("auto", True)


def test_a_cloud_answer_keeps_provider_model_route_and_cost_and_they_add_up(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.create_conversation()
    q = store.add_message(c.id, None, user("Plan my migration"))
    a = store.add_message(c.id, q.id, assistant("Step 1"), model="gpt-4o-mini", provider="OpenAI-compatible (x)",
                          route="Cloud: multi-step request, score 0.63", cost=0.0021, prompt_tokens=100,
                          generated_tokens=40, generation_tps=55.5)
    store.add_message(c.id, a.id, assistant("local"), model="tiny", generated_tokens=7)
    kept = store.message(a.id)
    assert (kept.provider, kept.model, kept.route, kept.cost) == (
        "OpenAI-compatible (x)", "gpt-4o-mini", "Cloud: multi-step request, score 0.63", 0.0021)
    assert store.cloud_usage() == CloudTotals(1, 100, 40, 0.0021, 55.5)


def test_a_version_3_database_opens_with_every_conversation_local_only(tmp_path: Path) -> None:
    path = tmp_path / "c.sqlite3"
    store = ConversationStore(path)
    c = store.create_conversation("Kept")
    store.add_message(c.id, None, user("hello"))
    store.close()
    db = sqlite3.connect(path)
    for table, column in (("conversations", "route_mode"), ("conversations", "private"), ("messages", "provider"),
                          ("messages", "route"), ("messages", "cost")):
        db.execute(f"ALTER TABLE {table} DROP COLUMN {column}")
    db.execute("PRAGMA user_version=3")
    db.commit()
    db.close()
    store = ConversationStore(path)
    kept = store.conversation(c.id)
    (message,) = store.thread(c.id)
    version = store._db.execute("PRAGMA user_version").fetchone()[0]
    found = (kept.title, kept.route_mode, kept.private, message.provider, message.cost)
    assert found == ("Kept", "local", False, None, 0.0)
    assert version == SCHEMA_VERSION == 4 and list(tmp_path.glob("c.sqlite3.v3-backup-*"))
