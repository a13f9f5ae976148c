"""A GGUF runs as it is, on llama.cpp: Run beside Import in the Models pane (on a model another app keeps, or a file
chosen or dropped), the run file remembered among Cabin's models (linked where it is, never copied), and `cabin
serve` answering a request that names an Ollama model without making an MLX copy of it.

Needs llama-cpp-python (scripts/setup.sh builds it): without it the module is skipped; what the app does without
it is faked by hiding the module (`without_llama_cpp`).
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

from app.model_state import ModelStatus  # noqa: E402
from app.models.elsewhere_section import BUTTON_COLUMN, RUN_COLUMN, RUN_MISSING  # noqa: E402
from app.models.pane import ModelsPane  # noqa: E402
from engine.models.store import delete_model, list_models  # noqa: E402
from engine.generation import Engine  # noqa: E402
from tests.app_fixtures import WAIT, chat_pane, close_window, send  # noqa: E402
from tests.conftest import LiveServer  # noqa: E402
from tests.store_factory import add_to_ollama  # noqa: E402

OLLAMA_NAME = "smollm2:135m"
SYSTEM = "You are a helpful AI assistant."
"""SmolLM2's own default system prompt makes greedy llama.cpp answer gibberish (NOTES-llamacpp.md)."""


@pytest.fixture(scope="module")
def ollama_root(tmp_path_factory: pytest.TempPathFactory, smollm2_gguf: Path) -> Path:
    """An Ollama store holding the real SmolLM2 GGUF as smollm2:135m (a blob named by its hash, as Ollama keeps it)."""
    root = tmp_path_factory.mktemp("ollama")
    add_to_ollama(root, OLLAMA_NAME, smollm2_gguf.read_bytes())
    return root


@pytest.fixture
def ollama_store(ollama_root: Path, empty_hf_cache: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """`ollama_root` as the Ollama store Cabin scans ($OLLAMA_MODELS), with no other app's models."""
    monkeypatch.setenv("OLLAMA_MODELS", str(ollama_root))
    return ollama_root


def blob(root: Path) -> Path:
    [path] = (root / "blobs").iterdir()
    return path


def found_row(pane: ModelsPane, name: str) -> int:
    return [pane.elsewhere.table.item(r, 0).text() for r in range(pane.elsewhere.table.rowCount())].index(name)


def run_button(pane: ModelsPane, name: str):
    return pane.elsewhere.table.cellWidget(found_row(pane, name), RUN_COLUMN)


@pytest.fixture
def data_dir(data_dir: Path) -> Path:
    """The app's data folder (tests/app_fixtures.py), its settings also giving SmolLM2 a system prompt it answers under."""
    settings = data_dir / "settings.json"
    settings.write_text(json.dumps({**json.loads(settings.read_text()), "default_system_prompt": SYSTEM}))
    return data_dir


def window_with_models_pane(qtbot, make_window) -> tuple:
    window = make_window()
    pane = window.pane(ModelsPane)
    qtbot.waitUntil(lambda: not pane.watcher.busy and pane.elsewhere.table.rowCount() > 0, timeout=WAIT)
    return window, pane


def test_run_on_an_ollama_model_loads_it_on_llama_cpp_and_the_window_answers(
    qtbot, make_window, ollama_store: Path
) -> None:
    window, pane = window_with_models_pane(qtbot, make_window)
    run_button(pane, OLLAMA_NAME).click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert window.context.engine.model_info.path == blob(ollama_store)
    assert window.context.engine.run_with_backend(lambda backend: type(backend).__name__).result() == "LlamaCppBackend"
    chat = chat_pane(window)
    assert window.stack.currentWidget() is chat
    send(qtbot, chat, "What is the capital of France?")
    assert "Paris" in chat.session.thread[-1].text


def test_a_run_ollama_model_is_listed_by_its_name_after_a_restart(qtbot, make_window, ollama_store: Path) -> None:
    window, pane = window_with_models_pane(qtbot, make_window)
    run_button(pane, OLLAMA_NAME).click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    close_window(window)
    [model] = list_models()
    assert (model.key, model.source, model.label, model.info.quant) == (str(blob(ollama_store)), "gguf", OLLAMA_NAME, "Q4_1")
    _, restarted = window_with_models_pane(qtbot, make_window)
    assert restarted.installed.item(0, 0).text() == f"{OLLAMA_NAME}  ·  GGUF on llama.cpp"
    assert restarted.installed.item(0, 3).text() == "Q4_1"


def test_the_last_run_gguf_is_loaded_again_on_start(qtbot, make_window, ollama_store: Path) -> None:
    window, pane = window_with_models_pane(qtbot, make_window)
    run_button(pane, OLLAMA_NAME).click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    close_window(window)
    restarted = make_window()
    restarted.context.models.load_last_used()  # as app/main.py's start() does
    qtbot.waitUntil(lambda: restarted.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert restarted.context.engine.model_info.path == blob(ollama_store)


def test_run_gguf_runs_a_chosen_file_without_copying_it(
    qtbot, make_window, data_dir: Path, ollama_store: Path, smollm2_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(smollm2_gguf), ""))
    window, pane = window_with_models_pane(qtbot, make_window)
    pane.run_button.click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert window.context.engine.model_info.path == smollm2_gguf
    assert [(m.source, m.path) for m in list_models()] == [("gguf", smollm2_gguf)]
    assert not (data_dir / "models").exists()


def test_a_dropped_gguf_runs_when_the_user_chooses_run(
    qtbot, make_window, ollama_store: Path, smollm2_gguf: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(ModelsPane, "ask_run_or_import", lambda _pane, name: asked.append(name) or "run")
    window, pane = window_with_models_pane(qtbot, make_window)
    pane.open_files([smollm2_gguf])
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert asked == [smollm2_gguf.name] and pane.job is None
    assert window.context.engine.model_info.path == smollm2_gguf


def test_a_gguf_llama_cpp_cannot_run_is_refused_in_one_line_and_not_listed(
    qtbot, make_window, ollama_store: Path, gguf_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from PySide6.QtWidgets import QFileDialog

    from tests.store_factory import write_small

    odd = write_small(gguf_dir / "odd-arch-run.gguf", arch="notamodel")
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *args: (str(odd), ""))
    window, pane = window_with_models_pane(qtbot, make_window)
    pane.run_button.click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.FAILED, timeout=WAIT)
    assert pane.message.text().startswith("could not load ") and "\n" not in pane.message.text()
    assert "llama.cpp cannot run this 'notamodel' model" in pane.message.text()
    assert list_models() == []


def test_run_on_a_gguf_that_wont_fit_asks_first_and_declining_loads_nothing(
    qtbot, ollama_store: Path, cabin_data: Path, make_pane, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    monkeypatch.setattr(ModelsPane, "confirm", lambda _pane, question, _detail, _verb: asked.append(question) or False)
    pane = make_pane()
    qtbot.waitUntil(lambda: pane.budget is not None, timeout=WAIT)
    pane.budget = 1024**2  # this machine, were it much smaller
    loads: list[tuple[str, bool]] = []
    pane.sig_use_model.connect(lambda key, oversize: loads.append((key, oversize)))
    run_button(pane, OLLAMA_NAME).click()
    assert asked == ["Load a model that won't fit?"] and loads == []


def test_without_llama_cpp_run_is_disabled_saying_how_to_get_it_and_import_stays(
    qtbot, ollama_store: Path, cabin_data: Path, without_llama_cpp: None, make_pane
) -> None:
    pane = make_pane()
    run = run_button(pane, OLLAMA_NAME)
    assert not run.isEnabled() and run.toolTip() == RUN_MISSING
    assert not pane.run_button.isEnabled() and pane.run_button.toolTip() == RUN_MISSING
    assert pane.elsewhere.table.cellWidget(found_row(pane, OLLAMA_NAME), BUTTON_COLUMN).isEnabled()
    assert pane.import_button.isEnabled()


def test_a_gguf_run_from_the_command_line_is_listed_and_forgotten_not_deleted(
    cabin_data: Path, empty_hf_cache: Path, smollm2_llamacpp: Engine, smollm2_gguf: Path
) -> None:
    [model] = list_models()
    assert (model.key, model.source, model.label) == (str(smollm2_gguf), "gguf", smollm2_gguf.stem)
    assert delete_model(model.key) == 0
    assert list_models() == [] and smollm2_gguf.is_file()


@pytest.fixture
def server(serve: Callable[..., LiveServer], ollama_store: Path) -> LiveServer:
    return serve(keep_alive=None)


def test_serve_answers_a_request_naming_an_ollama_gguf_without_an_mlx_copy(
    server: LiveServer, ollama_store: Path, cabin_data: Path
) -> None:
    client = server.openai()
    reply = client.chat.completions.create(
        model=OLLAMA_NAME, max_tokens=16, temperature=0,
        messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}],
    )  # fmt: skip
    assert "Paris" in reply.choices[0].message.content
    assert reply.model == OLLAMA_NAME == server.engine.model_info.name
    assert server.engine.model_info.path == blob(ollama_store)
    assert not (cabin_data / "models").exists()
    assert [(m.source, m.label) for m in list_models()] == [("gguf", OLLAMA_NAME)]


def cabin(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cabin", *args], capture_output=True, text=True, timeout=120)


def test_cabin_chat_runs_an_ollama_model_by_its_name_as_it_is_and_lists_it(
    ollama_store: Path, cabin_data: Path
) -> None:
    chat = cabin("chat", "--model", OLLAMA_NAME, "--system", SYSTEM, "--prompt", "What is the capital of France?",
                 "--temp", "0", "--max-tokens", "16")  # fmt: skip
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout and not (cabin_data / "models").exists()
    listed = cabin("models", "list").stdout.splitlines()
    assert listed[1].split()[0] == OLLAMA_NAME and listed[1].split()[-1] == "llama.cpp"


def test_naming_an_ollama_gguf_without_llama_cpp_says_how_to_run_or_import_it(
    ollama_store: Path, cabin_data: Path, without_llama_cpp: None
) -> None:
    from engine.cli.elsewhere import model_to_load
    from engine.errors import ModelError

    with pytest.raises(ModelError, match=r"^smollm2:135m is a GGUF model Ollama keeps: running a GGUF file needs "
                                         r"llama-cpp-python: .*, or import it \(cabin models import .*\)$"):  # fmt: skip
        model_to_load(OLLAMA_NAME)


def test_the_empty_chat_offers_to_run_an_ollama_model_and_the_window_answers(
    qtbot, make_window, ollama_store: Path
) -> None:
    window = make_window()
    chat = chat_pane(window)
    window.start_panes()
    qtbot.waitUntil(lambda: chat.first_run.started and not chat.first_run.watcher.busy, timeout=WAIT)
    button = chat.chat.empty.offers.buttons[str(blob(ollama_store))]
    assert button.text() == "Run"
    button.click()
    qtbot.waitUntil(lambda: window.context.models.status is ModelStatus.READY, timeout=WAIT)
    assert window.context.models.name == OLLAMA_NAME
    window.show_pane(chat)
    send(qtbot, chat, "What is the capital of France?")
    assert "Paris" in chat.session.thread[-1].text


def test_loading_an_ollama_blob_names_it_by_its_ollama_name(ollama_store: Path) -> None:
    from app.model_state import loading_name

    assert loading_name(blob(ollama_store)) == OLLAMA_NAME
