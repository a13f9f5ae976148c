"""The prompt of a conversation, built once for the window (a stored branch) and `cabin chat` (kept in memory)."""

from __future__ import annotations

from pathlib import Path

from engine.conversations.history import History, prompt_messages
from engine.conversations.store import ConversationStore
from engine.messages import Message, Reasoning, Text, assistant, system, user


def test_the_system_prompt_comes_first_unless_it_is_blank() -> None:
    assert prompt_messages("Be brief.", [user("Hi")]) == [system("Be brief."), user("Hi")]
    assert prompt_messages("  \n", [user("Hi")]) == [user("Hi")]


def test_a_history_asks_with_every_earlier_turn() -> None:
    history = History("Be brief.")
    history.ask("Hi")
    history.answered("Hello!")
    assert history.ask("And then?") == [system("Be brief."), user("Hi"), assistant("Hello!"), user("And then?")]


def test_a_history_keeps_an_answers_thinking_apart_from_its_text() -> None:
    history = History()
    history.ask("Hi")
    history.answered("Hello!", "A greeting.")
    assert history.thread[-1] == Message("assistant", (Reasoning("A greeting."), Text("Hello!")))


def test_clearing_a_history_keeps_its_system_prompt() -> None:
    history = History("Be brief.")
    history.ask("Hi")
    history.clear()
    assert history.ask("Again") == [system("Be brief."), user("Again")]


def test_a_stored_branch_reads_to_the_model_as_the_same_exchange_held_in_memory(tmp_path: Path) -> None:
    store = ConversationStore(tmp_path / "c.sqlite3")
    c = store.create_conversation(system_prompt="Be brief.")
    q1 = store.add_message(c.id, None, user("Hi"))
    store.add_message(c.id, q1.id, assistant("Hello!"))
    store.add_message(c.id, q1.id, assistant("Hey."))  # the branch shown after regenerating
    stored = [m.message for m in store.thread(c.id)] + [user("And then?")]
    store.close()
    history = History("Be brief.")
    history.ask("Hi")
    history.answered("Hey.")
    assert prompt_messages("Be brief.", stored) == history.ask("And then?")
