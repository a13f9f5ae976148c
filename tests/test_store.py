"""The conversation store: SQLite in WAL mode, branches as a message tree, crash recovery, search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from engine.conversations.model import INTERRUPTED, STREAMING
from engine.conversations.store import ConversationStore, StoreError
from engine.messages import assistant, text_parts, user


@pytest.fixture
def store(tmp_path: Path):
    store = ConversationStore(tmp_path / "c.sqlite3")
    yield store
    store.close()


def test_the_database_uses_wal(store: ConversationStore) -> None:
    assert sqlite3.connect(store.path).execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_a_thread_is_the_path_to_the_current_leaf(store: ConversationStore) -> None:
    c = store.create_conversation()
    q = store.add_message(c.id, None, user("hi"))
    a = store.add_message(c.id, q.id, assistant("hello"), generated_tokens=3)
    assert [m.id for m in store.thread(c.id)] == [q.id, a.id]
    assert store.thread(c.id)[1].generated_tokens == 3


def test_a_sibling_becomes_the_visible_branch_and_the_old_one_stays(store: ConversationStore) -> None:
    c = store.create_conversation()
    q = store.add_message(c.id, None, user("hi"))
    first = store.add_message(c.id, q.id, assistant("one"))
    second = store.add_message(c.id, q.id, assistant("two"))
    tree = store.tree(c.id)
    assert [m.id for m in tree.siblings(second)] == [first.id, second.id]
    assert store.thread(c.id)[-1].id == second.id


def test_switching_to_a_branch_follows_its_newest_leaf(store: ConversationStore) -> None:
    c = store.create_conversation()
    q1 = store.add_message(c.id, None, user("a"))
    a1 = store.add_message(c.id, q1.id, assistant("b"))
    q2 = store.add_message(c.id, a1.id, user("c"))
    store.add_message(c.id, None, user("a, edited"))
    tree = store.tree(c.id)
    assert tree.newest_leaf_under(q1).id == q2.id


def test_an_answer_left_streaming_is_marked_interrupted_at_the_next_open(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.create_conversation()
    q = store.add_message(c.id, None, user("hi"))
    a = store.add_message(c.id, q.id, assistant(""), finish_reason=STREAMING)
    store.update_message(a.id, parts=text_parts("partial answ"))
    store.close()  # as if the app died here
    reopened = ConversationStore(tmp_path / "c.sqlite3")
    answer = reopened.message(a.id)
    reopened.close()
    assert (answer.text, answer.finish_reason) == ("partial answ", INTERRUPTED)


def test_search_matches_titles_and_messages_case_insensitively(store: ConversationStore) -> None:
    weather = store.create_conversation("Weather")
    code = store.create_conversation("Code")
    store.add_message(code.id, None, user("What is 100% of RAIN?"))
    assert [c.id for c in store.conversations("weather")] == [weather.id]
    assert [c.id for c in store.conversations("rain")] == [code.id]
    assert [c.id for c in store.conversations("100%")] == [code.id]
    assert store.conversations("1_0") == []


def test_conversations_are_listed_newest_first(store: ConversationStore) -> None:
    old = store.create_conversation("old")
    new = store.create_conversation("new")
    store.add_message(old.id, None, user("bump"))
    assert [c.id for c in store.conversations()] == [old.id, new.id]


def test_deleted_conversations_are_hidden_until_undeleted(store: ConversationStore) -> None:
    c = store.create_conversation()
    store.delete(c.id)
    assert store.conversations() == []
    with pytest.raises(StoreError):
        store.conversation(c.id)
    store.undelete(c.id)
    assert store.conversation(c.id).id == c.id


def test_purging_erases_deleted_conversations_and_their_messages(store: ConversationStore) -> None:
    c = store.create_conversation()
    store.add_message(c.id, None, user("hi"))
    store.delete(c.id)
    store.purge_deleted()
    store.undelete(c.id)
    assert store.conversations() == [] and store.tree(c.id).messages == {}


def test_updating_an_unknown_column_is_refused(store: ConversationStore) -> None:
    c = store.create_conversation()
    m = store.add_message(c.id, None, user("hi"))
    with pytest.raises(StoreError, match="cannot update role"):
        store.update_message(m.id, role="assistant")


def test_an_empty_title_becomes_untitled(store: ConversationStore) -> None:
    c = store.create_conversation()
    store.rename(c.id, "   ")
    assert store.conversation(c.id).title == "Untitled"
