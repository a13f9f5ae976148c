"""The Models pane, driven as a user would: lists, fit, use, delete, download with progress, cancel, convert."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtWidgets import QLabel

from app.models.pane import ModelsPane
from app.models.tables import BADGES_ROLE, CATALOGUE_HEADERS, KEY_ROLE, select_key
from engine.generation import Engine
from engine.models.catalogue import USES, load_catalogue
from tests.conftest import put_in_hf_cache
from tests.fake_hub import FakeHub

REPO = "mlx-community/tiny-llama-4bit"
WAIT = 30_000
FIT, STATE = CATALOGUE_HEADERS.index("Fit"), len(CATALOGUE_HEADERS) - 1


def column(table, index: int) -> list[str]:
    return [table.item(row, index).text() for row in range(table.rowCount())]


def keys(table) -> list[str]:
    return [table.item(row, 0).data(KEY_ROLE) for row in range(table.rowCount())]


def select(table, key: str) -> None:
    assert key in keys(table)
    select_key(table, key)


@pytest.fixture
def store(empty_hf_cache: Path, cabin_data: Path) -> Path:
    return empty_hf_cache


def test_lists_the_models_on_this_machine_with_their_fit(store: Path, llama_4bit_model: Path, make_pane) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    pane = make_pane()
    assert column(pane.installed, 0) == [REPO]
    assert [pane.installed.item(0, c).text() for c in (1, 2, 3, 6)] == ["llama", "140K", "4-bit", "fits"]
    assert "usable for models" in pane.memory_label.text()


def test_with_no_models_it_says_how_to_get_one(store: Path, make_pane) -> None:
    pane = make_pane()
    assert pane.installed_stack.currentWidget() is pane.empty_hint
    assert "Download one from the catalogue" in pane.empty_hint.text()


def test_the_catalogue_shows_fit_and_one_recommendation_per_use(store: Path, make_pane) -> None:
    pane = make_pane()
    assert len(column(pane.catalogue, 0)) == len(load_catalogue())
    assert set(column(pane.catalogue, FIT)) <= {"fits", "tight", "won't fit"}
    assert column(pane.catalogue, STATE).count("recommended") <= len(USES)


def test_the_catalogue_shows_each_models_abilities_as_badges(store: Path, make_pane) -> None:
    pane = make_pane()
    row = keys(pane.catalogue).index("mlx-community/Qwen3-4B-4bit")
    badges = pane.catalogue.cellWidget(row, CATALOGUE_HEADERS.index(""))
    assert pane.catalogue.item(row, 2).data(BADGES_ROLE) == ("thinking", "tools")
    assert [label.text() for label in badges.findChildren(QLabel)] == ["thinking", "tools"]


def test_the_fit_check_can_start_from_a_context_off_the_list(store: Path, qtbot, engine: Engine) -> None:
    pane = ModelsPane(engine, 12000)
    qtbot.addWidget(pane)
    assert pane.context_length == 12000
    assert [pane.context_box.itemData(i) for i in range(pane.context_box.count())][2:5] == [8192, 12000, 16384]


def test_a_longer_context_can_change_the_fit(store: Path, make_pane, monkeypatch) -> None:
    monkeypatch.setattr("app.models.pane.memory_budget", lambda: 16 * 1024**3)
    pane = make_pane()
    before = column(pane.catalogue, FIT).count("won't fit")
    pane.context_box.setCurrentIndex(pane.context_box.count() - 1)
    assert column(pane.catalogue, FIT).count("won't fit") > before


def test_use_for_chat_asks_the_app_to_load_the_model(qtbot, store: Path, llama_4bit_model: Path, make_pane) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    pane = make_pane()
    select(pane.installed, REPO)
    with qtbot.waitSignal(pane.sig_use_model) as used:
        pane.use_button.click()
    assert used.args == [REPO, False]


def test_a_model_that_wont_fit_is_loaded_only_after_confirmation(
    qtbot, store: Path, llama_4bit_model: Path, make_pane, monkeypatch
) -> None:
    monkeypatch.setattr("app.models.pane.memory_budget", lambda: 64 * 1024**2)
    put_in_hf_cache(store, REPO, llama_4bit_model)
    pane = make_pane()
    assert pane.installed.item(0, 6).text() == "won't fit"
    select(pane.installed, REPO)
    asked = []
    monkeypatch.setattr(pane, "confirm", lambda question, detail, verb: asked.append(verb) or True)
    with qtbot.waitSignal(pane.sig_use_model) as used:
        pane.use_button.click()
    assert asked == ["Load Anyway"] and used.args == [REPO, True]


def test_delete_asks_then_shows_the_space_freed(qtbot, store: Path, llama_4bit_model: Path, make_pane, monkeypatch) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    pane = make_pane()
    select(pane.installed, REPO)
    monkeypatch.setattr(pane, "confirm", lambda question, detail, verb: "frees" in detail)
    pane.delete_button.click()
    qtbot.waitUntil(lambda: pane.installed.rowCount() == 0, timeout=WAIT)
    assert pane.message.text().startswith(f"Deleted {REPO}: ") and "freed" in pane.message.text()


def test_declining_the_confirmation_deletes_nothing(store: Path, llama_4bit_model: Path, make_pane, monkeypatch) -> None:
    put_in_hf_cache(store, REPO, llama_4bit_model)
    pane = make_pane()
    select(pane.installed, REPO)
    monkeypatch.setattr(pane, "confirm", lambda *args: False)
    pane.delete_button.click()
    assert not pane.watcher.busy and pane.installed.rowCount() == 1


def test_a_downloaded_catalogue_model_offers_use_instead_of_download(
    qtbot, store: Path, llama_4bit_model: Path, make_pane
) -> None:
    catalogue_repo = "mlx-community/Llama-3.2-1B-Instruct-4bit"
    put_in_hf_cache(store, catalogue_repo, llama_4bit_model)
    pane = make_pane()
    select(pane.catalogue, catalogue_repo)
    assert pane.catalogue.item(keys(pane.catalogue).index(catalogue_repo), STATE).text() == "downloaded"
    assert pane.download_button.text() == "Use for Chat"
    with qtbot.waitSignal(pane.sig_use_model) as used:
        pane.download_button.click()
    assert used.args == [catalogue_repo, False]


def search_and_select(qtbot, pane: ModelsPane, query: str, key: str) -> None:
    pane.search_field.setText(query)
    pane.search_hub()
    qtbot.waitUntil(lambda: key in column(pane.catalogue, 0), timeout=WAIT)
    select(pane.catalogue, key)


def test_search_then_download_shows_progress_and_lists_the_model(qtbot, fake_hub: FakeHub, make_pane) -> None:
    weights = fake_hub.hold("model.safetensors")
    pane = make_pane()
    search_and_select(qtbot, pane, "tiny", REPO)
    pane.download_button.click()
    assert pane.task.isVisible() and not pane.download_button.isEnabled()
    qtbot.waitUntil(lambda: "KB of" in pane.task.detail.text(), timeout=WAIT)
    weights.set()
    qtbot.waitUntil(lambda: pane.job is None, timeout=WAIT)
    qtbot.waitUntil(lambda: column(pane.installed, 0) == [REPO], timeout=WAIT)
    assert not pane.task.isVisible() and "is ready" in pane.message.text()


def test_cancel_stops_a_download_and_lists_it_as_partial(qtbot, fake_hub: FakeHub, make_pane) -> None:
    weights = fake_hub.hold("model.safetensors")
    pane = make_pane()
    search_and_select(qtbot, pane, "tiny", REPO)
    pane.download_button.click()
    qtbot.waitUntil(lambda: "KB of" in pane.task.detail.text(), timeout=WAIT)
    pane.task.cancel.click()
    weights.set()
    qtbot.waitUntil(lambda: pane.job is None, timeout=WAIT)
    qtbot.waitUntil(lambda: not pane.watcher.busy, timeout=WAIT)
    assert "cancelled" in pane.message.text()
    assert column(pane.installed, 6) == ["partial download"]
    select(pane.installed, REPO)
    assert not pane.use_button.isEnabled()


def test_a_failed_download_is_one_message_and_the_pane_stays_usable(qtbot, fake_hub: FakeHub, make_pane) -> None:
    pane = make_pane()
    pane.catalogue.selectRow(0)  # a real mlx-community repo, which the local Hub does not have
    pane.download_button.click()
    qtbot.waitUntil(lambda: pane.job is None, timeout=WAIT)
    assert "does not exist on the Hugging Face Hub" in pane.message.text()
    assert pane.convert_button.isEnabled()


def test_convert_adds_a_smaller_model(qtbot, store: Path, llama_fp16_model: Path, make_pane) -> None:
    pane = make_pane()
    pane.start_conversion(str(llama_fp16_model), 4, 64)
    qtbot.waitUntil(lambda: pane.job is None, timeout=WAIT)
    qtbot.waitUntil(lambda: pane.installed.rowCount() == 1, timeout=WAIT)
    assert pane.message.text().startswith("Converted: ") and "→" in pane.message.text()
    assert pane.installed.item(0, 3).text() == "4-bit"
    assert pane.installed.item(0, 0).text() == "tiny-llama-4bit  ·  converted"


def test_offline_the_hub_search_is_off(store: Path, make_pane) -> None:
    pane = make_pane()
    assert not pane.search_field.isEnabled()
    assert pane.search_field.placeholderText().startswith("Offline")


def test_in_the_window_use_for_chat_loads_the_model_for_every_pane(
    qtbot, make_window, empty_hf_cache: Path, llama_4bit_model: Path
) -> None:
    from app.model_state import ModelStatus

    put_in_hf_cache(empty_hf_cache, REPO, llama_4bit_model)
    window = make_window()
    pane = window.pane(ModelsPane)
    assert "Models" in [a.text() for a in window.switcher.actions()]
    qtbot.waitUntil(lambda: not pane.watcher.busy, timeout=WAIT)
    select(pane.installed, REPO)
    pane.use_button.click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert window.context.models.name == REPO
    assert pane.message.text() == f"{REPO} is loaded for Chat."
    qtbot.waitUntil(lambda: pane.installed.item(0, 5).text() == "just now", timeout=WAIT)


def test_in_the_window_a_refused_load_is_explained_in_the_pane(
    qtbot, make_window, empty_hf_cache: Path, llama_4bit_model: Path, monkeypatch
) -> None:
    from app.model_state import ModelStatus

    put_in_hf_cache(empty_hf_cache, REPO, llama_4bit_model)
    window = make_window()
    pane = window.pane(ModelsPane)
    qtbot.waitUntil(lambda: not pane.watcher.busy, timeout=WAIT)
    monkeypatch.setattr("engine.models.loading.memory_budget", lambda: 64 * 1024**2)  # the machine shrinks meanwhile
    select(pane.installed, REPO)
    pane.use_button.click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.FAILED, timeout=WAIT)
    assert "won't fit in this machine's memory" in pane.message.text()


def test_the_convert_dialog_defaults_to_4_bit_groups_of_64_and_needs_a_source(qtbot) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    from app.models.convert_dialog import ConvertDialog

    dialog = ConvertDialog()
    qtbot.addWidget(dialog)
    convert_button = dialog.buttons.button(QDialogButtonBox.StandardButton.Ok)
    assert not convert_button.isEnabled()
    dialog.source.setText("Qwen/Qwen2.5-0.5B-Instruct")
    assert convert_button.isEnabled()
    assert dialog.choice() == ("Qwen/Qwen2.5-0.5B-Instruct", 4, 64)


def test_a_gguf_with_its_projector_is_listed_as_reading_images(store: Path, llava_gguf_pair, make_pane,
                                                              tmp_path: Path) -> None:  # fmt: skip
    from engine.models.store import remember_gguf

    remember_gguf(llava_gguf_pair[0])
    pane = make_pane()
    assert [pane.installed.item(0, c).text() for c in (1, 3)] == ["llama + vision", "Q8_0"]
    assert pane.grab().save(str(Path(os.environ.get("CABIN_PNG_DIR", tmp_path)) / "models-vision-gguf.png"))
