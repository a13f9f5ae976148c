"""Preferences ▸ Memory & Compute ▸ Saved prompt caches: the window keeps conversations' prompt caches in the data
folder, shows the space they take, clears them, and takes a new size limit at once."""

from __future__ import annotations

from pathlib import Path

from app.context import CACHE_FILES
from tests.app_fixtures import WAIT, chat_pane, close_window, send
from tests.test_app_preferences import enter


def saved_after_a_chat(qtbot, window) -> None:
    send(qtbot, chat_pane(window), "Hello")
    window.context.engine.save_cache_files().result()


def test_a_chat_saves_its_prompt_cache_in_the_data_folder(qtbot, window, data_dir: Path) -> None:
    saved_after_a_chat(qtbot, window)
    assert len(list((data_dir / CACHE_FILES).glob("*.safetensors"))) == 1


def test_preferences_show_the_space_the_files_take(qtbot, window) -> None:
    saved_after_a_chat(qtbot, window)
    row = window.show_preferences().cache_files
    row.refresh()
    assert row.usage.text().startswith("Using ") and row.clear_button.isEnabled()


def test_clear_deletes_the_files(qtbot, window) -> None:
    saved_after_a_chat(qtbot, window)
    row = window.show_preferences().cache_files
    row.refresh()
    row.clear_button.click()
    qtbot.waitUntil(lambda: row.usage.text().startswith("No prompt caches saved"), timeout=WAIT)
    assert window.context.engine.cache_folder.usage() == 0


def test_a_limit_of_zero_deletes_the_files_at_once(qtbot, window) -> None:
    saved_after_a_chat(qtbot, window)
    enter(window.show_preferences(), "prompt_cache_disk_mb", "0")
    qtbot.waitUntil(lambda: window.context.engine.cache_folder.usage() == 0, timeout=WAIT)
    assert window.context.settings.values.prompt_cache_disk_mb == 0


def test_a_conversation_reopened_after_a_restart_answers_from_its_saved_cache(qtbot, make_window, llama_model) -> None:
    first = make_window(llama_model)
    send(qtbot, chat_pane(first), "Hello")
    close_window(first)
    pane = chat_pane(make_window(llama_model))
    pane.conversations.list.setCurrentRow(0)
    send(qtbot, pane, "And then?")
    assert pane.session.thread[-1].cached_tokens > 0

