"""Any model by name: a request naming a model in the store loads it in place of the loaded one (one resident model,
swapped when its turn comes), keep-alive unloads idle models, and /v1/models, /api/tags and /api/ps tell the truth."""

from __future__ import annotations

import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import ollama
import openai
import pytest

from engine.generation import SamplingSettings
from engine.messages import user
from engine.models import local
from engine.server.errors import ApiError
from engine.server.keep_alive import keep_alive_seconds
from tests.conftest import LiveServer

LLAMA, QWEN = "tiny-llama", "tiny-qwen2"


def ask(client: openai.OpenAI, model: str, question: str = "Hello there", max_tokens: int = 8) -> str:
    completion = client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": question}], max_tokens=max_tokens, temperature=0
    )
    return completion.choices[0].message.content


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


@pytest.fixture
def store_with_qwen(cabin_data: Path, empty_hf_cache: Path, qwen2_model: Path) -> Path:
    """A store holding the tiny qwen2 (a folder the user added); the server starts with the tiny llama."""
    local.add_folder(qwen2_model)
    return qwen2_model


@pytest.fixture
def server(serve: Callable[..., LiveServer], store_with_qwen: Path) -> LiveServer:
    return serve()


@pytest.fixture
def client(server: LiveServer) -> openai.OpenAI:
    return server.openai()


@pytest.fixture
def ollama_client(server: LiveServer) -> ollama.Client:
    return server.ollama()


def loaded(ollama_client: ollama.Client) -> list[str]:
    return [model.model for model in ollama_client.ps().models]


def test_naming_a_stored_model_loads_it_and_it_answers(client: openai.OpenAI, server: LiveServer) -> None:
    answer = ask(client, QWEN)
    assert server.engine.model_info.name == QWEN
    settings = SamplingSettings(temperature=0.0, max_tokens=8)
    assert answer == server.engine.chat([user("Hello there")], settings, conversation_id="reference").result().text


def test_the_model_list_and_tags_hold_the_loaded_model_and_the_stores(
    client: openai.OpenAI, ollama_client: ollama.Client
) -> None:
    assert [model.id for model in client.models.list()] == [LLAMA, QWEN]
    assert [model.model for model in ollama_client.list().models] == [LLAMA, QWEN]
    assert client.models.retrieve(QWEN).id == QWEN


def test_ps_shows_the_model_a_request_swapped_in(client: openai.OpenAI, ollama_client: ollama.Client) -> None:
    assert loaded(ollama_client) == [LLAMA]
    ask(client, QWEN)
    assert loaded(ollama_client) == [QWEN]


def test_ollamas_latest_suffix_and_the_folder_path_name_the_model(
    ollama_client: ollama.Client, store_with_qwen: Path
) -> None:
    assert ollama_client.chat(model=f"{QWEN}:latest", messages=[{"role": "user", "content": "Hi"}],
                              options={"num_predict": 2}).model == QWEN  # fmt: skip
    assert ollama_client.generate(model=str(store_with_qwen), prompt="Hi", options={"num_predict": 2}).model == QWEN


def test_an_unknown_name_is_a_404_in_both_shapes(client: openai.OpenAI, ollama_client: ollama.Client) -> None:
    with pytest.raises(openai.NotFoundError) as openai_error:
        ask(client, "no-such-model")
    assert openai_error.value.code == "model_not_found"
    with pytest.raises(ollama.ResponseError) as ollama_error:
        ollama_client.chat(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert ollama_error.value.status_code == 404


def test_keep_alive_0_unloads_the_model_once_answered(ollama_client: ollama.Client, server: LiveServer) -> None:
    ollama_client.chat(model=QWEN, messages=[{"role": "user", "content": "Hi"}], options={"num_predict": 2}, keep_alive=0)
    wait_for(lambda: server.engine.model_info is None)
    assert loaded(ollama_client) == []


def test_an_empty_generate_with_keep_alive_0_unloads_at_once(ollama_client: ollama.Client) -> None:
    assert ollama_client.generate(model=LLAMA, prompt="", keep_alive=0).done_reason == "unload"
    assert loaded(ollama_client) == []


def test_an_empty_generate_loads_the_model(ollama_client: ollama.Client) -> None:
    assert ollama_client.generate(model=QWEN, prompt="").done_reason == "load"
    assert loaded(ollama_client) == [QWEN]


def test_a_model_unloaded_when_idle_is_still_listed_and_loads_again(
    serve: Callable[..., LiveServer], store_with_qwen: Path
) -> None:
    server = serve(keep_alive=0)
    client = server.openai()
    first = ask(client, LLAMA)
    wait_for(lambda: server.engine.model_info is None)
    assert [model.id for model in client.models.list()] == [LLAMA, QWEN]
    assert ask(client, LLAMA) == first


def test_ps_tells_when_the_idle_model_will_be_unloaded(client: openai.OpenAI, ollama_client: ollama.Client) -> None:
    before = time.time()
    ask(client, LLAMA)
    expires = ollama_client.ps().models[0].expires_at.timestamp()
    assert before + 300 - 5 < expires < time.time() + 300 + 5


def test_concurrent_requests_for_two_models_are_each_answered_by_their_own(client: openai.OpenAI) -> None:
    expected = {model: ask(client, model, max_tokens=16) for model in (LLAMA, QWEN)}
    order = [LLAMA, QWEN] * 3
    with ThreadPoolExecutor(len(order)) as pool:
        answers = list(pool.map(lambda model: ask(client, model, max_tokens=16), order))
    assert answers == [expected[model] for model in order]


def test_tools_for_a_model_swapped_in_use_that_models_tool_format(
    client: openai.OpenAI, qwen_tools_model: Path
) -> None:
    from tests.test_server_tools import WEATHER

    local.add_folder(qwen_tools_model)
    completion = client.chat.completions.create(
        model="tiny-qwen-tools", messages=[{"role": "user", "content": "Weather in Paris?"}], tools=[WEATHER],
        tool_choice="required", max_tokens=200, temperature=1.0, seed=1,
    )
    assert completion.choices[0].message.tool_calls[0].function.name == "get_weather"


def test_the_anthropic_client_names_a_stored_model_too(server: LiveServer) -> None:
    import anthropic

    client = anthropic.Anthropic(base_url=server.url, api_key="unused", max_retries=0)
    message = client.messages.create(model=QWEN, max_tokens=4, messages=[{"role": "user", "content": "Hi"}])
    assert message.model == QWEN and server.engine.model_info.name == QWEN


def test_a_model_too_big_for_memory_is_a_clear_error_and_the_loaded_one_stays(
    client: openai.OpenAI, ollama_client: ollama.Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.models import loading

    monkeypatch.setattr(loading, "memory_budget", lambda: 1)
    with pytest.raises(openai.BadRequestError) as error:
        ask(client, QWEN)
    assert error.value.code == "model_load_failed" and "won't fit in this machine's memory" in error.value.message
    assert loaded(ollama_client) == [LLAMA]


def test_a_server_that_may_not_swap_refuses_another_model_with_a_409(
    serve: Callable[..., LiveServer], store_with_qwen: Path
) -> None:
    server = serve(swap_models=False, keep_alive=None)
    client = server.openai()
    with pytest.raises(openai.ConflictError) as error:
        ask(client, QWEN)
    assert error.value.code == "model_in_use" and f"choose {QWEN} in the Cabin window" in error.value.message
    assert server.engine.model_info.name == LLAMA


def test_a_server_that_may_not_swap_lists_only_the_loaded_model(
    serve: Callable[..., LiveServer], store_with_qwen: Path
) -> None:
    server = serve(swap_models=False, keep_alive=None)
    client = server.openai()
    assert [model.id for model in client.models.list()] == [LLAMA]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("5m", 300.0), ("1h30m", 5400.0), ("90s", 90.0), ("0", 0.0), (0, 0.0), (12.5, 12.5), ("-1", None), (-1, None),
     ("-1m", None)],
)  # fmt: skip
def test_keep_alive_takes_ollamas_durations_and_seconds(value: object, seconds: float | None) -> None:
    assert keep_alive_seconds(value) == seconds


def test_a_keep_alive_that_is_no_duration_is_refused() -> None:
    with pytest.raises(ApiError, match="keep_alive 'soon' is not a duration"):
        keep_alive_seconds("soon")
