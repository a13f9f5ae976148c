"""The first run: what the empty chat offers without a model, the pane switch after choosing one, the window's
title, and the Models pane's wording on a Mac and elsewhere."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chat.first_run import OFFERING
from app.model_state import ModelStatus
from app.models.pane import ModelsPane
from app.models.view import ModelsView
from engine.models.recommend import first_download
from tests.app_fixtures import WAIT, chat_pane, send
from tests.conftest import put_in_hf_cache

REPO = "mlx-community/tiny-llama-4bit"
BUDGET = 16 * 1024**3


@pytest.fixture
def sixteen_gigabytes(monkeypatch: pytest.MonkeyPatch) -> int:
    """The machine's memory budget, as the empty chat asks for it (on the engine's worker)."""
    monkeypatch.setattr("app.chat.first_run.memory_budget", lambda: BUDGET)
    return BUDGET


def started(qtbot, window):
    """The window as it is once on screen (app.main.start), its empty chat's offers listed."""
    pane = chat_pane(window)
    window.start_panes()
    qtbot.waitUntil(lambda: pane.first_run.started and not pane.first_run.watcher.busy, timeout=WAIT)
    return pane


def test_the_empty_chat_lists_the_models_on_disk_and_one_click_loads_it(
    qtbot, make_window, empty_hf_cache: Path, llama_4bit_model: Path, sixteen_gigabytes: int
) -> None:
    put_in_hf_cache(empty_hf_cache, REPO, llama_4bit_model)
    pane = started(qtbot, make_window())
    assert pane.chat.empty.offers.isVisibleTo(pane.chat.empty)
    pane.chat.empty.offers.buttons[REPO].click()
    qtbot.waitUntil(lambda: pane.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert pane.context.models.name == REPO
    assert not pane.chat.empty.offers.isVisibleTo(pane.chat.empty)


def test_the_empty_chat_offers_the_recommended_download_and_starts_it_in_the_models_pane(
    qtbot, make_window, fake_hub, sixteen_gigabytes: int
) -> None:
    window = make_window()
    pane = started(qtbot, window)
    repo = first_download(BUDGET, window.context.settings.values.context_length, set()).entry.repo_id
    pane.chat.empty.offers.buttons[repo].click()
    models = window.pane(ModelsPane)
    assert window.stack.currentWidget() is models
    assert models.task.title.text() == f"Downloading {repo}"
    qtbot.waitUntil(lambda: models.job is None, timeout=WAIT)  # the local Hub has only the tiny llama
    assert repo in models.message.text()


def test_offline_the_recommended_download_is_shown_but_off(qtbot, make_window, empty_hf_cache, sixteen_gigabytes) -> None:
    pane = started(qtbot, make_window())
    (repo, button), = pane.chat.empty.offers.buttons.items()
    assert repo.startswith("mlx-community/") and not button.isEnabled() and "Offline" in button.toolTip()


def test_without_llama_cpp_the_empty_chat_offers_models_found_elsewhere_for_import(
    qtbot, make_window, stores_at_home, sixteen_gigabytes: int, without_llama_cpp: None
) -> None:
    window = make_window()
    pane = started(qtbot, window)
    imports = [key for key, button in pane.chat.empty.offers.buttons.items() if button.text() == "Import"]
    assert imports and all(Path(key).is_relative_to(stores_at_home.ollama.parents[1]) for key in imports)
    pane.chat.empty.offers.buttons[imports[0]].click()
    models = window.pane(ModelsPane)
    assert window.stack.currentWidget() is models and models.task.title.text().startswith("Importing ")
    models.cancel_job()
    qtbot.waitUntil(lambda: models.job is None, timeout=120_000)


def test_with_a_model_loaded_the_empty_chat_offers_nothing(qtbot, window) -> None:
    pane = chat_pane(window)
    window.start_panes()
    assert window.context.models.status not in OFFERING and not pane.first_run.started
    assert not pane.chat.empty.offers.isVisibleTo(pane.chat.empty)


def test_use_for_chat_in_the_models_pane_switches_to_the_chat(
    qtbot, make_window, empty_hf_cache: Path, llama_4bit_model: Path
) -> None:
    put_in_hf_cache(empty_hf_cache, REPO, llama_4bit_model)
    window = make_window()
    models = window.pane(ModelsPane)
    window.show_pane(models)
    qtbot.waitUntil(lambda: not models.watcher.busy, timeout=WAIT)
    models.installed.selectRow(0)
    models.use_button.click()
    assert window.stack.currentWidget() is chat_pane(window)
    assert window.switcher.actions()[0].isChecked()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)


def test_the_window_title_follows_the_open_conversation(qtbot, window) -> None:
    pane = chat_pane(window)
    assert window.windowTitle() == "Cabin"
    send(qtbot, pane, "Plan a trip to Lisbon")
    first = pane.session.conversation_id
    assert window.windowTitle() == "Cabin — Plan a trip to Lisbon"
    pane.new_chat()
    assert window.windowTitle() == "Cabin"
    pane.session.open(first)
    pane._rename(first, "Lisbon")
    assert window.windowTitle() == "Cabin — Lisbon"


@pytest.mark.parametrize(("platform", "heading"), [("darwin", "On this Mac"), ("linux", "On this computer"),
                                                   ("win32", "On this computer")])  # fmt: skip
def test_the_models_heading_says_this_mac_only_on_a_mac(qtbot, monkeypatch, platform: str, heading: str) -> None:
    monkeypatch.setattr("sys.platform", platform)
    view = ModelsView(8192)
    qtbot.addWidget(view)
    assert view.installed_title.text() == heading
    assert heading.removeprefix("On ") in view.empty_hint.text() and heading.removeprefix("On ") in view.memory_label.text()
    assert view.elsewhere.empty_hint.text().endswith(f"{heading.removeprefix('On ')}.")
