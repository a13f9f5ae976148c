"""Models other apps keep, by name, without llama.cpp: on `cabin serve`, a request naming an Ollama (or LM Studio,
llama.cpp, HF cache) model brings it into Cabin's store once (a GGUF imported, an MLX folder added), then loads and
answers; the other app's files are never changed, and the app's own server (which never swaps) imports nothing.
(With llama.cpp installed a GGUF runs as it is instead: tests/test_gguf_run.py.)"""

from __future__ import annotations

import shutil
import socket
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from engine.models.store import list_models
from tests.conftest import LiveServer
from tests.store_factory import add_to_ollama, write_small

OLLAMA_NAME, CABIN_NAME = "smol:135m", "smol-135m"


def ask(client: openai.OpenAI, model: str) -> openai.types.chat.ChatCompletion:
    return client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello there"}], max_tokens=4, temperature=0
    )


@pytest.fixture
def ollama_store(tmp_path: Path, tiny_gguf: Path, gguf_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An Ollama store ($OLLAMA_MODELS) with smol:135m, a truncated cut:q4, and odd:1b of an unknown architecture."""
    root = tmp_path / "ollama"
    tiny = tiny_gguf.read_bytes()
    add_to_ollama(root, OLLAMA_NAME, tiny)
    add_to_ollama(root, "cut:q4", tiny[:-100])
    add_to_ollama(root, "odd:1b", write_small(gguf_dir / "odd-arch.gguf", arch="notamodel").read_bytes())
    monkeypatch.setenv("OLLAMA_MODELS", str(root))
    return root


@pytest.fixture
def server(
    serve: Callable[..., LiveServer], cabin_data: Path, empty_hf_cache: Path, ollama_store: Path, without_llama_cpp: None
) -> LiveServer:
    return serve(keep_alive=None)


@pytest.fixture
def client(server: LiveServer) -> openai.OpenAI:
    return server.openai()


def imported(cabin_data: Path) -> list[str]:
    models = cabin_data / "models"
    return sorted(p.name for p in models.iterdir()) if models.is_dir() else []


def snapshot(root: Path) -> dict[Path, tuple[bytes, int]]:
    return {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in sorted(root.rglob("*")) if p.is_file()}


def test_naming_an_ollama_model_imports_it_and_answers(client: openai.OpenAI, cabin_data: Path) -> None:
    completion = ask(client, OLLAMA_NAME)
    assert completion.model == CABIN_NAME and completion.choices[0].message.content
    assert imported(cabin_data) == [CABIN_NAME]
    assert [m.path.name for m in list_models()] == [CABIN_NAME]


def test_a_second_request_uses_the_model_imported_by_the_first(client: openai.OpenAI, cabin_data: Path) -> None:
    ask(client, OLLAMA_NAME)
    folder = cabin_data / "models" / CABIN_NAME
    inode = folder.stat().st_ino
    assert ask(client, OLLAMA_NAME).model == CABIN_NAME
    assert folder.stat().st_ino == inode and imported(cabin_data) == [CABIN_NAME]


def test_requests_arriving_together_import_once(client: openai.OpenAI, cabin_data: Path) -> None:
    with ThreadPoolExecutor(3) as pool:
        answers = list(pool.map(lambda _: ask(client, OLLAMA_NAME).model, range(3)))
    assert answers == [CABIN_NAME] * 3
    assert imported(cabin_data) == [CABIN_NAME]


def test_the_name_the_import_gives_it_names_it_too(client: openai.OpenAI) -> None:
    assert ask(client, CABIN_NAME).model == CABIN_NAME


def test_ollamas_latest_tag_may_be_left_out(client: openai.OpenAI, ollama_store: Path, gguf_dir: Path) -> None:
    plain = write_small(gguf_dir / "plain.gguf", metadata={"general.name": "plain"})
    add_to_ollama(ollama_store, "plain:latest", plain.read_bytes())
    assert ask(client, "plain").model == "plain-latest"


def test_the_ollama_store_is_left_unchanged(client: openai.OpenAI, ollama_store: Path) -> None:
    before = snapshot(ollama_store)
    ask(client, OLLAMA_NAME)
    assert snapshot(ollama_store) == before


def test_the_ollama_api_imports_by_name_too(server: LiveServer, cabin_data: Path) -> None:
    answer = server.ollama().chat(model=OLLAMA_NAME, messages=[{"role": "user", "content": "Hi"}],
                                                 options={"num_predict": 4, "temperature": 0})  # fmt: skip
    assert answer.model == CABIN_NAME and imported(cabin_data) == [CABIN_NAME]


def test_a_client_that_goes_away_cancels_the_import_leaving_nothing(
    server: LiveServer, client: openai.OpenAI, cabin_data: Path
) -> None:
    staging = cabin_data / "models" / f".{CABIN_NAME}.importing"
    body = b'{"model": "%s", "messages": [{"role": "user", "content": "Hi"}]}' % OLLAMA_NAME.encode()
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port))) as connection:
        connection.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
                           b"Content-Length: %d\r\n\r\n%s" % (host.encode(), len(body), body))  # fmt: skip
        deadline = time.monotonic() + 60
        while not staging.exists():
            assert time.monotonic() < deadline, "the import never started"
            time.sleep(0.02)
    assert ask(client, "tiny-llama").model == "tiny-llama"  # its turn comes once the import is cancelled
    assert imported(cabin_data) == []


def test_an_lm_studio_mlx_folder_is_added_in_place(
    serve: Callable[..., LiveServer], cabin_data: Path, empty_hf_cache: Path, qwen2_model: Path, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = shutil.copytree(qwen2_model, tmp_path / "home" / ".lmstudio" / "models" / "mlx-community" / "qwen-lms")
    monkeypatch.setenv("CABIN_SCAN_HOME", str(tmp_path / "home"))
    client = openai.OpenAI(base_url=f"{serve(keep_alive=None).url}/v1", api_key="unused", max_retries=0)
    assert ask(client, "mlx-community/qwen-lms").model == "qwen-lms"
    assert [(m.source, m.path) for m in list_models()] == [("folder", folder.resolve())]
    assert imported(cabin_data) == []


def test_a_model_with_a_problem_is_a_400_naming_it(client: openai.OpenAI, cabin_data: Path) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        ask(client, "cut:q4")
    assert error.value.code == "model_unusable" and "it is truncated" in error.value.message
    assert imported(cabin_data) == []


def test_a_failed_import_is_a_400_with_the_reason_and_leaves_nothing(client: openai.OpenAI, cabin_data: Path) -> None:
    with pytest.raises(openai.BadRequestError) as error:
        ask(client, "odd:1b")
    assert error.value.code == "model_import_failed" and "is not supported for import" in error.value.message
    assert "\n" not in error.value.message and imported(cabin_data) == []


def test_an_unknown_name_is_still_a_404(client: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        ask(client, "nowhere:1b")


def test_found_models_are_not_listed_before_they_are_cabins(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == ["tiny-llama"]


def test_the_apps_server_imports_nothing(
    serve: Callable[..., LiveServer], cabin_data: Path, empty_hf_cache: Path, ollama_store: Path
) -> None:
    server = serve(swap_models=False, keep_alive=None)
    client = server.openai()
    with pytest.raises(openai.NotFoundError):
        ask(client, OLLAMA_NAME)
    assert imported(cabin_data) == [] and server.engine.model_info.name == "tiny-llama"
