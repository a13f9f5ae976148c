"""The window as a whole: start-up without a model, broken models, history across restarts, the
conversation list (search, rename, delete with undo), export, and the pane switcher."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from app.chat.pane import ChatPane
from app.model_state import ModelStatus
from app.models.pane import ModelsPane
from app.window import MainWindow
from tests.app_fixtures import WAIT, chat_pane, close_window, load_model, send


def test_without_a_model_the_window_says_how_to_get_one(make_window) -> None:
    pane = chat_pane(make_window())
    assert pane.chat.currentWidget() is pane.chat.empty
    assert "Choose a folder" in pane.chat.empty.hint.text()
    assert pane.chat.empty.button.isVisibleTo(pane.chat.empty)


def test_a_broken_model_folder_shows_the_error_and_the_app_stays_usable(qtbot, make_window, tmp_path, llama_model) -> None:
    window = make_window()
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text("{not json")
    load_model(qtbot, window, broken)
    assert window.context.models.status is ModelStatus.FAILED
    assert "is not valid JSON" in window.model_label.text()
    assert "is not valid JSON" in chat_pane(window).chat.empty.hint.text()
    load_model(qtbot, window, llama_model)
    send(qtbot, chat_pane(window), "Hello")
    assert chat_pane(window).session.thread[-1].finish_reason in ("stop", "length")


def test_the_last_used_model_loads_at_the_next_start(qtbot, make_window, llama_model) -> None:
    close_window(make_window(llama_model))
    window = make_window()
    window.context.models.load_last_used()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert window.context.models.info.path == llama_model


def test_history_survives_closing_and_reopening_the_window(qtbot, make_window, llama_model) -> None:
    first = make_window(llama_model)
    send(qtbot, chat_pane(first), "Hello")
    before = chat_pane(first).session.thread
    close_window(first)
    pane = chat_pane(make_window())
    assert pane.conversations.list.count() == 1
    pane.conversations.list.setCurrentRow(0)
    assert [(m.role, m.text, m.generated_tokens) for m in pane.session.thread] == [
        (m.role, m.text, m.generated_tokens) for m in before
    ]
    assert len(pane.chat.views) == 2


def test_closing_mid_answer_saves_the_partial_answer(qtbot, make_window, llama_model) -> None:
    window = make_window(llama_model)
    window.context.settings.set("max_tokens", 100_000)
    pane = chat_pane(window)
    pane.send("Write a table")
    qtbot.waitUntil(lambda: len(pane.session.live_text) > 20, timeout=WAIT)
    conversation_id = pane.session.conversation_id
    close_window(window)
    answer = chat_pane(make_window()).context.store.thread(conversation_id)[-1]
    assert answer.finish_reason == "cancelled" and len(answer.text) > 20


def test_the_first_question_names_the_conversation(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "How do tides work?\nAnd why twice a day?")
    assert pane.conversations.list.item(0).text() == "How do tides work?"


def test_search_finds_conversations_by_message_text(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    pane.new_chat()
    send(qtbot, pane, "Tell me about the weather")
    pane.conversations.search.setText("WEATHER")
    qtbot.waitUntil(lambda: pane.conversations.list.count() == 1, timeout=WAIT)
    assert pane.conversations.list.item(0).text() == "Tell me about the weather"


def test_renaming_in_the_list_renames_the_conversation(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    pane.conversations.list.item(0).setText("Greetings")
    assert window.context.store.conversation(pane.session.conversation_id).title == "Greetings"


def test_delete_can_be_undone(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    conversation_id = pane.session.conversation_id
    pane.delete_action.trigger()
    assert pane.conversations.list.count() == 0 and pane.session.conversation_id is None
    assert pane.conversations.undo_bar.isVisibleTo(pane)
    pane.conversations.undo_bar.button.click()
    assert pane.conversations.list.count() == 1 and pane.session.conversation_id == conversation_id
    assert len(pane.session.thread) == 2


def test_a_delete_not_undone_is_erased(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    conversation_id = pane.session.conversation_id
    pane.delete_action.trigger()
    pane.conversations.undo_bar.expire()
    window.context.store.undelete(conversation_id)
    assert window.context.store.conversations() == []


def test_export_writes_markdown_and_json(qtbot, window, tmp_path: Path) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    pane.export(pane.session.conversation_id, "markdown", tmp_path / "c.md")
    pane.export(pane.session.conversation_id, "json", tmp_path / "c.json")
    assert "## You\n\nHello" in (tmp_path / "c.md").read_text()
    document = json.loads((tmp_path / "c.json").read_text())
    assert [m["role"] for m in document["messages"]] == ["user", "assistant"]
    assert document["thread"] == [m.id for m in pane.session.thread]


def test_menus_follow_macos_conventions(make_window) -> None:
    window = make_window()
    actions = {a.text(): a for menu in window.menus.values() for a in menu.actions()}
    assert actions["About Cabin"].menuRole() == actions["About Cabin"].MenuRole.AboutRole
    assert actions["Preferences…"].menuRole() == actions["Preferences…"].MenuRole.PreferencesRole
    assert actions["Quit Cabin"].menuRole() == actions["Quit Cabin"].MenuRole.QuitRole
    assert actions["New Chat"].shortcut().toString() == "Ctrl+N"  # shown as ⌘N on macOS


def test_geometry_is_restored_at_the_next_start(make_window) -> None:
    window = make_window()
    window.resize(700, 520)  # inside the 800×800 offscreen screen: restoring clamps to the screen
    close_window(window)
    assert make_window().size().toTuple() == (700, 520)


def test_a_registered_pane_appears_in_the_switcher(qtbot, make_window) -> None:
    def notes_pane(_context):
        pane = QLabel("notes")
        pane.setWindowTitle("Notes")
        return pane

    from app.context import AppContext

    window = MainWindow(AppContext.create(make_window().context.data_dir), panes=(ChatPane, notes_pane))
    qtbot.addWidget(window)
    try:
        assert [a.text() for a in window.switcher.actions()] == ["Chat", "Notes"]
        window.switcher.actions()[1].trigger()
        assert window.stack.currentWidget().windowTitle() == "Notes"
        assert not window.switcher.isHidden()
    finally:
        close_window(window)


def test_sending_without_a_model_keeps_the_text_and_says_why(make_window) -> None:
    pane = chat_pane(make_window())
    pane.composer.edit.setPlainText("Hello")
    pane.composer.button.click()
    assert pane.composer.edit.toPlainText() == "Hello"
    assert "No model is loaded" in pane.composer.hint.text()
    assert pane.session.conversation_id is None


def test_the_window_opens_before_mlx_is_imported(tmp_path: Path) -> None:
    """MLX and the model load after the window is on screen, so it appears at once."""
    import os
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from app.main import build_window, create_application\n"
        "from app.context import AppContext\n"
        "app = create_application([])\n"
        "context = AppContext.create()\n"
        "window = build_window(context)\n"
        "window.show()\n"
        "app.processEvents()\n"
        "print('mlx.core' in sys.modules)\n"
        "window.close()\n"
        "context.close()\n"
    )
    env = {**os.environ, "CABIN_DATA_DIR": str(tmp_path), "QT_QPA_PLATFORM": "offscreen"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert out.stdout.strip().splitlines()[-1] == "False", out.stderr


def test_the_divider_position_is_restored_at_the_next_start(make_window) -> None:
    window = make_window()
    chat_pane(window).splitter.setSizes([300, 500])
    close_window(window)
    assert chat_pane(make_window()).splitter.sizes()[0] == 300


def test_a_question_sent_while_the_model_loads_is_answered_once_it_has(qtbot, make_window, llama_model) -> None:
    window = make_window()
    task = window.context.models.load(llama_model)
    pane = chat_pane(window)
    pane.send("Hello")
    assert pane.session.busy
    qtbot.waitUntil(lambda: task.done() and not pane.session.busy, timeout=WAIT)
    assert pane.session.thread[-1].finish_reason in ("stop", "length")


def test_deleting_a_conversation_answering_in_the_background_stops_its_answer(qtbot, window) -> None:
    pane = chat_pane(window)
    window.context.settings.set("max_tokens", 100_000)
    pane.send("Write a table")
    conversation_id = pane.session.conversation_id
    pane.new_chat()
    pane.delete_conversation(conversation_id)
    assert not pane.session.busy
    assert window.context.store.conversations() == []


def test_when_two_models_are_chosen_quickly_the_last_one_wins(qtbot, make_window, llama_model, qwen2_model) -> None:
    window = make_window()
    first = window.context.models.load(llama_model)
    second = window.context.models.load(qwen2_model)
    qtbot.waitUntil(lambda: first.done() and second.done(), timeout=WAIT)
    assert window.context.models.info.path == qwen2_model
    assert window.context.settings.get("last_model") == str(qwen2_model)


def test_the_delete_key_in_the_list_deletes_with_undo(qtbot, window) -> None:
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    pane.conversations.list.setCurrentRow(0)
    qtbot.keyClick(pane.conversations.list, Qt.Key.Key_Delete)
    assert pane.conversations.list.count() == 0
    assert pane.conversations.undo_bar.isVisibleTo(pane)


def test_closing_the_window_erases_a_deleted_conversation_at_once(qtbot, make_window, llama_model) -> None:
    window = make_window(llama_model)
    pane = chat_pane(window)
    send(qtbot, pane, "Hello")
    pane.delete_action.trigger()
    close_window(window)
    assert not pane.conversations.undo_bar.isVisibleTo(pane)
    assert chat_pane(make_window()).store.conversations() == []


def test_an_unreadable_history_is_moved_aside_and_the_app_starts(make_window, data_dir: Path) -> None:
    (data_dir / "conversations.sqlite3").write_bytes(b"this is not a database" * 100)
    window = make_window()
    assert "moved to" in window.statusBar().currentMessage()
    assert [p.name.startswith("conversations.sqlite3.unreadable-") for p in data_dir.iterdir()].count(True) == 1
    assert window.context.store.conversations() == []


def test_a_memory_refresh_after_closing_is_ignored(make_window) -> None:
    """A model that finishes loading during shutdown must not reach the stopped helper thread."""
    window = make_window()
    close_window(window)
    window._refresh_memory()


def test_the_models_pane_plans_for_the_context_length_chosen_in_preferences(make_window) -> None:
    make_window().context.settings.set("context_length", 16384)
    assert make_window().pane(ModelsPane).context_length == 16384
