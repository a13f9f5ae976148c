"""Speculative decoding in the window: a draft chosen in Preferences or the Models pane is saved per model, loaded
with it, and the chat footer says what it did. The real SmolLM2 pair: float32 target, its 4-bit import as draft."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from app.drafts import set_draft
from app.models.draft_choice import draft_bytes
from app.models.tables import select_key
from engine.models.store import add_model_folder, model_key
from engine.settings.file import Settings
from tests.app_fixtures import WAIT, chat_pane, load_model, send


def png_dir(tmp_path: Path) -> Path:
    return Path(os.environ.get("CABIN_PNG_DIR", tmp_path))


@pytest.fixture
def real_pair(data_dir: Path, smollm2_float32: Path, smollm2_model: Path) -> tuple[Path, Path]:
    """(target, draft), both added to Cabin's models (Add Folder…) in the window's data folder."""
    return add_model_folder(smollm2_float32).path, add_model_folder(smollm2_model).path


def choose_in_preferences(qtbot, window, draft: Path):
    preferences = window.show_preferences("Generation")
    row = preferences.draft_row
    qtbot.waitUntil(row.choice.isEnabled, timeout=WAIT)
    row.choice.activated.emit(row.choice.findData(str(draft)))
    return preferences


def test_a_draft_chosen_in_preferences_is_saved_for_the_loaded_model(qtbot, make_window, real_pair, tmp_path) -> None:
    target, draft = real_pair
    window = make_window(target)
    preferences = choose_in_preferences(qtbot, window, draft)
    assert window.context.settings.values.draft_models == {model_key(target): str(draft)}
    assert "Used the next time SmolLM2-135M-Instruct-Q4_1-float32 is loaded" in preferences.draft_row.status.text()


def test_after_a_reload_the_answer_is_drafted_and_the_footer_says_so(qtbot, make_window, real_pair, tmp_path) -> None:
    target, draft = real_pair
    window = make_window(target)
    preferences = choose_in_preferences(qtbot, window, draft)
    load_model(qtbot, window, target)
    assert window.context.engine.draft_name == "SmolLM2-135M-Instruct-Q4_1"
    assert "runs with SmolLM2-135M-Instruct-Q4_1 as its draft" in preferences.draft_row.status.text()
    preferences.grab().save(str(png_dir(tmp_path) / "preferences-draft-model.png"))
    pane = chat_pane(window)
    send(qtbot, pane, "What is the capital of France?")
    footer = pane.chat.views[-1].footer.text()
    assert "Paris" in pane.chat.views[-1].message.text
    assert "accepted (" in footer and "× vs without" in footer
    window.grab().save(str(png_dir(tmp_path) / "chat-draft-footer.png"))


@pytest.fixture
def pane_with_settings(make_pane, tmp_path: Path, data_dir: Path, llama_model: Path, llama_4bit_twin: Path):
    """A Models pane whose draft choices go to a settings file, as the window connects it; both tiny models added."""
    add_model_folder(llama_model), add_model_folder(llama_4bit_twin)
    pane = make_pane()
    settings = Settings(tmp_path / "settings.json")
    pane.sig_set_draft.connect(lambda info, chosen: set_draft(settings, pane.engine, info, chosen))
    return pane, settings


def select(pane, folder: Path):
    model = next(m for m in pane.models if m.path == folder.resolve())
    select_key(pane.installed, model.key)
    return model


def test_the_models_pane_sets_a_draft_and_shows_it_on_its_button(
    qtbot, pane_with_settings, llama_model, llama_4bit_twin, tmp_path
) -> None:
    pane, settings = pane_with_settings
    model = select(pane, llama_model)
    pane.set_draft(model, str(llama_4bit_twin.resolve()))
    assert settings.values.draft_models == {model_key(llama_model): str(llama_4bit_twin.resolve())}
    assert pane.draft_button.text() == "Draft: tiny-llama-4bit…"
    qtbot.wait(50)  # the button's new width is laid out on the event loop
    pane.grab().save(str(png_dir(tmp_path) / "models-pane-draft.png"))


def test_the_models_pane_counts_the_draft_in_the_fit(pane_with_settings, llama_model, llama_4bit_twin) -> None:
    pane, _ = pane_with_settings
    pane.budget = 16 * 1024**3
    model = select(pane, llama_model)
    alone = pane.fit(model.info.weight_bytes, model).needed
    pane.set_draft(model, str(llama_4bit_twin.resolve()))
    extra = draft_bytes(pane.engine, model, pane.models, pane.context_length, None)
    assert extra > 0 and pane.fit(model.info.weight_bytes, model).needed == alone + extra
