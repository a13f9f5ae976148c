"""The OpenAI-compatible API, through the official `openai` client and plain HTTP, against a live server."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

import openai
import pytest

from engine.generation import SamplingSettings
from engine.messages import user
from tests.conftest import LiveServer

MODEL = "tiny-llama"
HELLO = [{"role": "user", "content": "Hello there"}]


@pytest.fixture
def client(api_server: LiveServer) -> openai.OpenAI:
    return api_server.openai()


def post_raw(server: LiveServer, path: str, body: dict) -> http.client.HTTPResponse:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    return connection.getresponse()


def sse_events(response: http.client.HTTPResponse) -> list[str]:
    return [line[len(b"data: "):].decode() for line in response.read().splitlines() if line.startswith(b"data: ")]


def engine_answer(server: LiveServer, max_tokens: int = 12) -> str:
    settings = SamplingSettings(temperature=0.0, max_tokens=max_tokens)
    return server.engine.chat([user("Hello there")], settings, conversation_id="reference").result().text


def test_models_lists_the_loaded_model(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_chat_completion_answers_what_the_engine_answers(client: openai.OpenAI, api_server: LiveServer) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=12, temperature=0)
    choice = completion.choices[0]
    assert (choice.message.role, choice.finish_reason) == ("assistant", "length")
    assert choice.message.content == engine_answer(api_server)
    assert completion.usage.completion_tokens == 12
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 12


def test_streamed_chat_adds_up_to_the_same_answer(client: openai.OpenAI, api_server: LiveServer) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=12, temperature=0, stream=True)
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks) == engine_answer(api_server)
    assert chunks[-1].choices[0].finish_reason == "length"


def test_a_stream_ends_with_done(api_server: LiveServer) -> None:
    body = {"model": MODEL, "messages": HELLO, "max_tokens": 4, "stream": True}
    response = post_raw(api_server, "/v1/chat/completions", body)
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events = sse_events(response)
    assert events[-1] == "[DONE]"
    assert all(json.loads(event)["object"] == "chat.completion.chunk" for event in events[:-1])


def test_include_usage_adds_a_last_chunk_with_usage_and_cached_tokens(client: openai.OpenAI) -> None:
    def usage() -> openai.types.CompletionUsage:
        stream = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=4, stream=True, temperature=0,
                                                stream_options={"include_usage": True})
        chunks = list(stream)
        assert chunks[-1].choices == [] and all(c.usage is None for c in chunks[:-1])
        return chunks[-1].usage

    first, second = usage(), usage()
    assert first.completion_tokens == 4 and first.prompt_tokens_details.cached_tokens == 0
    assert second.prompt_tokens_details.cached_tokens == second.prompt_tokens - 1


def test_a_request_sharing_a_prefix_reports_cached_tokens(client: openai.OpenAI) -> None:
    system = {"role": "system", "content": "You are Cabin, a local assistant. Answer in Markdown with tables and lists."}
    client.chat.completions.create(model=MODEL, messages=[system, {"role": "user", "content": "Apples?"}], max_tokens=2)
    second = client.chat.completions.create(model=MODEL, messages=[system, {"role": "user", "content": "Boats?"}],
                                            max_tokens=2)
    assert second.usage.prompt_tokens_details.cached_tokens > 20


def test_the_same_seed_samples_the_same_answer(client: openai.OpenAI) -> None:
    def sample(seed: int) -> str:
        completion = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=12, temperature=1.2,
                                                    top_p=0.95, seed=seed)
        return completion.choices[0].message.content

    assert sample(7) == sample(7)
    assert len({sample(seed) for seed in range(3)}) > 1


def test_top_p_of_zero_is_greedy(client: openai.OpenAI, api_server: LiveServer) -> None:
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=12, temperature=1.5, top_p=0)
    assert completion.choices[0].message.content == engine_answer(api_server)


def test_stop_strings_end_the_answer_before_them(client: openai.OpenAI, api_server: LiveServer) -> None:
    full = engine_answer(api_server)
    completion = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=12, temperature=0,
                                                stop=[full[5:8], "\x00absent"])
    choice = completion.choices[0]
    assert (choice.message.content, choice.finish_reason) == (full[: full.find(full[5:8])], "stop")


def test_text_parts_in_message_content_are_read_as_text(client: openai.OpenAI, api_server: LiveServer) -> None:
    parts = [{"type": "text", "text": "Hello"}, {"type": "text", "text": " there"}]
    completion = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": parts}],
                                                max_tokens=12, temperature=0)
    assert completion.choices[0].message.content == engine_answer(api_server)


def test_text_completion_continues_the_raw_prompt(client: openai.OpenAI, api_server: LiveServer) -> None:
    completion = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=8, temperature=0)
    expected = api_server.engine.complete("Once upon a time", SamplingSettings(temperature=0, max_tokens=8)).result()
    assert completion.object == "text_completion"
    assert completion.choices[0].text == expected.text
    assert completion.usage.completion_tokens == 8


def test_text_completion_defaults_to_16_tokens_as_openai_documents(client: openai.OpenAI) -> None:
    completion = client.completions.create(model=MODEL, prompt="Once upon a time", temperature=0)
    assert completion.usage.completion_tokens == 16


def test_streamed_text_completion_with_echo_starts_with_the_prompt(client: openai.OpenAI) -> None:
    stream = client.completions.create(model=MODEL, prompt="Once upon a time", max_tokens=6, echo=True, stream=True, temperature=0)
    chunks = list(stream)
    assert chunks[0].choices[0].text == "Once upon a time"
    assert chunks[-1].choices[0].finish_reason == "length"
