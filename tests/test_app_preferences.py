"""The Preferences window: changes reach the next answer, bad values are refused with a message, settings
persist, a corrupt file falls back to defaults with a warning, and engine settings are applied."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from engine.generation import Engine
from engine.settings.schema import GB
from tests.app_fixtures import WAIT, chat_pane, close_window, send


def enter(preferences, key: str, text: str) -> None:
    """Type `text` into a number field and leave it, as a user would."""
    field = preferences.editors[key].edit
    field.setText(text)
    field.editingFinished.emit()


@pytest.fixture
def preferences(window):
    return window.show_preferences()


@pytest.fixture
def default_limits_afterwards(engine: Engine) -> Iterator[None]:
    """MLX's limits are process-wide: put them back for the tests that follow."""
    yield
    engine.set_memory_limits(None, None).result()


def test_the_preferences_action_opens_the_window(window) -> None:
    window.preferences_action.trigger()
    assert window.preferences.isVisible() and window.preferences.tabs.currentIndex() == 0


def test_the_performance_action_opens_the_performance_page(window) -> None:
    window.performance_action.trigger()
    assert window.preferences.tabs.currentWidget() is window.preferences.performance


def test_fields_show_the_stored_values(preferences) -> None:
    assert preferences.editors["temperature"].edit.text() == "0"
    assert preferences.editors["max_tokens"].edit.text() == "24"
    assert preferences.editors["seed"].edit.text() == ""


def test_changing_temperature_changes_the_next_request(qtbot, window, preferences, monkeypatch) -> None:
    engine = window.context.engine
    requests = []
    real_chat = engine.chat
    monkeypatch.setattr(engine, "chat", lambda messages, settings, *args, **kwargs: requests.append(settings) or real_chat(messages, settings, *args, **kwargs))
    enter(preferences, "temperature", "0.3")
    enter(preferences, "seed", "11")
    send(qtbot, chat_pane(window), "Hello")
    assert (requests[-1].temperature, requests[-1].seed) == (0.3, 11)


def test_an_out_of_range_value_is_refused_with_a_message(preferences) -> None:
    enter(preferences, "temperature", "7")
    assert "Temperature must be between 0 and 2. Still using 0." in preferences.message.text()
    assert preferences.settings.values.temperature == 0.0
    assert preferences.editors["temperature"].edit.text() == "7"
    assert preferences.editors["temperature"].edit.styleSheet()


def test_text_that_is_not_a_number_is_refused_with_a_message(preferences) -> None:
    enter(preferences, "max_tokens", "many")
    assert "Max tokens must be a whole number, not “many”" in preferences.message.text()
    assert preferences.settings.values.max_tokens == 24


def test_a_corrected_value_clears_the_error(preferences) -> None:
    enter(preferences, "temperature", "7")
    enter(preferences, "temperature", "1.2")
    assert preferences.settings.values.temperature == 1.2
    assert not preferences.editors["temperature"].edit.styleSheet()
    assert "next answer" in preferences.message.text()


def test_settings_persist_across_restarts(make_window, llama_model) -> None:
    first = make_window()
    enter(first.show_preferences(), "top_p", "0.85")
    enter(first.preferences, "context_length", "4096")
    close_window(first)
    preferences = make_window().show_preferences()
    assert preferences.editors["top_p"].edit.text() == "0.85"
    assert preferences.settings.sampling().context_length == 4096


def test_restore_defaults_resets_the_page_shown(preferences) -> None:
    enter(preferences, "temperature", "1.5")
    enter(preferences, "max_tokens", "100")
    preferences.restore_button.click()
    assert preferences.settings.values.temperature == 0.7 and preferences.settings.values.max_tokens == 2048
    assert preferences.editors["temperature"].edit.text() == "0.7"


def test_the_default_system_prompt_is_used_by_new_conversations(window, preferences) -> None:
    editor = preferences.editors["default_system_prompt"]
    editor.edit.setPlainText("Answer in French.")
    editor.commit()
    chat_pane(window).new_chat()
    assert chat_pane(window).session.system_prompt == "Answer in French."


def test_a_memory_limit_is_applied_to_mlx_at_once(qtbot, window, preferences, default_limits_afterwards) -> None:
    enter(preferences, "memory_limit_gb", "2")
    enter(preferences, "cache_limit_gb", "0.5")
    engine = window.context.engine
    qtbot.waitUntil(lambda: engine.memory().limits is not None and engine.memory().limits.cache == GB // 2, timeout=WAIT)
    assert engine.memory().limits.memory == 2 * GB


def test_restoring_memory_defaults_gives_mlx_its_defaults_back(qtbot, window, preferences, default_limits_afterwards) -> None:
    defaults = window.context.engine.set_memory_limits(None, None).result()
    preferences.tabs.setCurrentIndex(1)
    enter(preferences, "memory_limit_gb", "3")
    preferences.restore_button.click()
    qtbot.waitUntil(lambda: window.context.engine.memory().limits == defaults, timeout=WAIT)


def test_memory_limits_saved_earlier_are_applied_at_start(make_window, default_limits_afterwards, data_dir) -> None:
    (data_dir / "settings.json").write_text(json.dumps({"version": 2, "memory": {"memory_limit_gb": 1.5}}))
    engine = make_window().context.engine
    engine.submit(lambda: None).result()
    assert engine.memory().limits.memory == int(1.5 * GB)


def test_turning_the_upcast_off_takes_effect_at_the_next_load(qtbot, window, preferences, llama_4bit_model) -> None:
    preferences.editors["upcast_on_cpu"].box.setChecked(False)
    assert window.context.engine.upcast_on_cpu is False
    assert "next time a model is loaded" in preferences.message.text()
    assert "next time a model is loaded" in preferences.editors["upcast_on_cpu"].box.toolTip()
    task = window.context.models.load(llama_4bit_model)
    qtbot.waitUntil(task.done, timeout=30_000)
    assert not window.context.engine.compute_plan.upcast


def test_every_field_explains_itself_in_a_tooltip(preferences) -> None:
    for key, editor in preferences.editors.items():
        assert len(editor.toolTip()) > 20, key


def test_a_corrupt_settings_file_falls_back_to_defaults_with_a_warning(make_window, data_dir) -> None:
    (data_dir / "settings.json").write_text("{this is not json")
    window = make_window()
    assert "The settings file could not be read" in window.statusBar().currentMessage()
    assert window.context.settings.values.temperature == 0.7
    kept = [p for p in data_dir.iterdir() if p.name.startswith("settings.unreadable")]
    assert kept and kept[0].read_text() == "{this is not json"


def test_the_app_keeps_working_after_a_corrupt_settings_file(qtbot, make_window, data_dir, llama_model) -> None:
    (data_dir / "settings.json").write_text("\x00\x01garbage")
    window = make_window(llama_model)
    send(qtbot, chat_pane(window), "Hello")
    assert chat_pane(window).session.thread[-1].finish_reason in ("stop", "length")


def test_the_context_length_field_names_the_loaded_models_limit(preferences) -> None:
    assert "this model: at most 2,048" in preferences.editors["context_length"].hint.text()


def test_with_no_limits_chosen_mlx_is_left_alone_at_start(make_window) -> None:
    engine = make_window().context.engine
    engine.submit(lambda: None).result()
    assert engine.memory().limits is None


def test_preferences_have_a_shortcut_on_every_platform(window) -> None:
    assert not window.preferences_action.shortcut().isEmpty()
