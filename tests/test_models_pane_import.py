"""Importing GGUF models in the Models pane: Import GGUF…, the models found elsewhere, dropping a file on the window."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QFileDialog

from app.models.elsewhere_section import BUTTON_COLUMN
from app.models.pane import ModelsPane
from app.models.view import here
from app.models.tables import KEY_ROLE
from engine.memory import format_bytes
from engine.models.elsewhere import Stores
from tests.store_factory import write_small

WAIT = 120_000  # an import starts a process that loads transformers for the tokenizer


def texts(table, column: int) -> list[str]:
    return [table.item(row, column).text() for row in range(table.rowCount())]


def import_button(pane: ModelsPane, name: str):
    row = texts(pane.elsewhere.table, 0).index(name)
    return pane.elsewhere.table.cellWidget(row, BUTTON_COLUMN)


def finish_job(qtbot, pane: ModelsPane) -> None:
    qtbot.waitUntil(lambda: pane.job is None and not pane.watcher.busy, timeout=WAIT)


@pytest.fixture
def chosen_file(monkeypatch: pytest.MonkeyPatch) -> list:
    """QFileDialog.getOpenFileName answers with whatever the test puts in the returned list; the calls are kept."""
    answer: list = [""]
    calls: list = []

    def ask(*args: object) -> tuple[str, str]:
        calls.append(args)
        return str(answer[0]), ""

    monkeypatch.setattr(QFileDialog, "getOpenFileName", ask)
    answer.append(calls)
    return answer


def test_the_heading_says_this_mac_only_on_a_mac() -> None:
    assert (here("darwin"), here("linux"), here("win32")) == ("this Mac", "this computer", "this computer")


def test_models_found_elsewhere_are_listed_with_quant_and_fit(stores_at_home: Stores, cabin_data: Path, make_pane) -> None:
    pane = make_pane()
    table = pane.elsewhere.table
    row = texts(table, 0).index("smol:135m")
    size = format_bytes(pane.found[row].path.stat().st_size)  # the blob's
    assert [table.item(row, c).text() for c in range(6)] == ["smol:135m", "Ollama", "llama", "Q8_0", size, "fits"]
    assert texts(table, 1) == ["Ollama", "Ollama", "LM Studio", "LM Studio", "llama.cpp", "HF cache"]


def test_an_unusable_model_found_elsewhere_shows_why_and_cannot_be_imported(
    stores_at_home: Stores, cabin_data: Path, make_pane
) -> None:
    pane = make_pane()
    row = texts(pane.elsewhere.table, 0).index("bartowski/cut:q4")
    status = pane.elsewhere.table.item(row, 5)
    assert status.text() == "it is truncated" and status.toolTip().startswith("it is truncated: ")
    assert not import_button(pane, "bartowski/cut:q4").isEnabled()


def test_with_nothing_found_elsewhere_the_section_says_so(cabin_data: Path, empty_hf_cache: Path, make_pane) -> None:
    pane = make_pane()
    assert pane.elsewhere.stack.currentWidget() is pane.elsewhere.empty_hint


def test_import_gguf_asks_for_a_gguf_file(store_dirs: None, chosen_file: list, make_pane) -> None:
    pane = make_pane()
    pane.import_button.click()
    [(parent, caption, folder, filter_)] = chosen_file[1]
    assert parent is pane and filter_ == "GGUF models (*.gguf)"
    assert pane.job is None  # the dialog was cancelled


def test_an_imported_file_appears_in_the_list_with_its_summary(
    qtbot, store_dirs: None, chosen_file: list, tiny_gguf: Path, make_pane
) -> None:
    chosen_file[0] = tiny_gguf
    pane = make_pane()
    pane.import_button.click()
    assert pane.task.title.text() == f"Importing {tiny_gguf.name}"
    finish_job(qtbot, pane)
    assert pane.message.text().startswith(f"Imported {tiny_gguf.name} (llama) to ")
    assert "Every tensor kept exact." in pane.message.text()
    assert texts(pane.installed, 0) == ["tiny-llama.Q8_0  ·  converted"]


def test_import_on_an_ollama_model_imports_it_under_its_name(
    qtbot, stores_at_home: Stores, cabin_data: Path, make_pane
) -> None:
    pane = make_pane()
    import_button(pane, "smol:135m").click()
    assert not import_button(pane, "lmstudio-community/Tiny-Q4_0").isEnabled()  # one job at a time
    finish_job(qtbot, pane)
    keys = [pane.installed.item(r, 0).data(KEY_ROLE) for r in range(pane.installed.rowCount())]
    assert keys == [str(cabin_data / "models" / "smol-135m")]
    assert pane.message.text().startswith("Imported smol-135m (llama) to ")
    assert import_button(pane, "smol:135m").text() == "Imported"
    assert not import_button(pane, "smol:135m").isEnabled()


def test_add_on_an_lm_studio_mlx_folder_adds_it(qtbot, stores_at_home: Stores, cabin_data: Path, make_pane) -> None:
    pane = make_pane()
    import_button(pane, "mlx-community/tiny-llama").click()
    qtbot.waitUntil(lambda: pane.installed.rowCount() == 1, timeout=WAIT)
    assert texts(pane.installed, 0) == ["tiny-llama  ·  folder"]


def test_a_failing_import_is_one_line_and_the_pane_stays_usable(
    qtbot, store_dirs: None, chosen_file: list, gguf_dir: Path, make_pane
) -> None:
    chosen_file[0] = write_small(gguf_dir / "unknown-arch.gguf", arch="notamodel")
    pane = make_pane()
    pane.import_button.click()
    finish_job(qtbot, pane)
    assert pane.message.text().startswith("could not import unknown-arch.gguf: ")
    assert "\n" not in pane.message.text()
    assert pane.import_button.isEnabled()


def test_cancelling_an_import_leaves_no_model(qtbot, store_dirs: None, chosen_file: list, tiny_gguf: Path, make_pane) -> None:
    chosen_file[0] = tiny_gguf
    pane = make_pane()
    pane.import_button.click()
    pane.task.cancel.click()
    finish_job(qtbot, pane)
    assert pane.message.text() == f"Import of {tiny_gguf.name} cancelled."
    assert pane.installed.rowCount() == 0


def test_a_second_file_while_importing_is_refused_in_one_line(
    qtbot, store_dirs: None, drops_import: None, tiny_gguf: Path, gguf_dir: Path, make_pane
) -> None:
    pane = make_pane()
    pane.open_files([tiny_gguf])
    pane.open_files([gguf_dir / "another.gguf"])
    assert pane.message.text() == f"Wait for “Importing {tiny_gguf.name}” to finish before importing another.gguf."
    pane.cancel_job()
    finish_job(qtbot, pane)


@pytest.fixture
def drops_import(monkeypatch: pytest.MonkeyPatch) -> None:
    """Asked whether to run or import a dropped GGUF (llama.cpp is installed), the user chooses Import."""
    monkeypatch.setattr(ModelsPane, "ask_run_or_import", lambda _pane, _name: "import")


@pytest.fixture
def store_dirs(cabin_data: Path, empty_hf_cache: Path) -> None:
    """A private Cabin data folder and HF cache: the pane lists only what the test imports."""


def file_drop(paths: list[Path]) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    return mime


def drop_on(window, mime: QMimeData) -> QDropEvent:
    event = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton, Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    return event


def drag_over(window, mime: QMimeData) -> QDragEnterEvent:
    """A drag entering the window; the event (which does not own `mime`) is judged while `mime` is alive."""
    event = QDragEnterEvent(window.rect().center(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                            Qt.KeyboardModifier.NoModifier)  # fmt: skip
    event.setAccepted(False)
    window.dragEnterEvent(event)
    return event


def test_dropping_a_gguf_on_the_window_imports_it_in_the_models_pane(
    qtbot, make_window, empty_hf_cache: Path, drops_import: None, tiny_gguf: Path
) -> None:
    window = make_window()
    pane = window.pane(ModelsPane)
    drop_on(window, file_drop([tiny_gguf]))
    assert window.stack.currentWidget() is pane
    assert pane.task.title.text() == f"Importing {tiny_gguf.name}"
    pane.cancel_job()
    qtbot.waitUntil(lambda: pane.job is None, timeout=WAIT)


def test_dragging_a_gguf_over_the_window_is_accepted(make_window, empty_hf_cache: Path, tiny_gguf: Path) -> None:
    window = make_window()
    event = drag_over(window, file_drop([tiny_gguf]))
    assert event.isAccepted()


def test_other_files_go_to_the_chat_not_the_models_pane(make_window, empty_hf_cache: Path, tmp_path: Path) -> None:
    window = make_window()
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    assert not window.pane(ModelsPane).accepts_files([text])
    assert window.pane_for_files(file_drop([text]))[0] is window.panes[0]  # the chat attaches it
