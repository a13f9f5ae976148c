"""Streaming from a cloud provider over real HTTP (a fake provider on loopback): both wire formats, and each way
a request can fail, as one CloudError line."""

from __future__ import annotations

import threading

import pytest

from engine.cloud.client import stream_pieces
from engine.cloud.answer import CloudAnswer
from engine.cloud.pieces import CloudError, Delta, Done
from engine.cloud.provider import Provider
from engine.generation import SamplingSettings
from engine.messages import system, user

KEY = "sk-test-0123456789"
ASK = [system("You are a helpful AI assistant."), user("What is the capital of France?")]


def provider(cloud, kind: str = "openai", timeout: float = 5.0) -> Provider:
    base = f"{cloud.url}/v1" if kind == "openai" else cloud.url
    name = f"fake-{kind}"
    return Provider(kind, base, name, input_cost=3.0, output_cost=15.0, timeout=timeout)  # type: ignore[arg-type]


def read_all(p: Provider, settings: SamplingSettings = SamplingSettings(max_tokens=64)) -> list:
    return list(stream_pieces(p, KEY, ASK, settings, threading.Event()))


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_streamed_answer_arrives_word_by_word_with_its_token_counts(fake_cloud, kind: str) -> None:
    pieces = read_all(provider(fake_cloud, kind))
    assert "".join(p.text for p in pieces if isinstance(p, Delta)) == "Paris is the capital."
    assert [p for p in pieces if isinstance(p, Delta)][0] == Delta("Paris ")
    assert any(isinstance(p, Done) and p.finish_reason == "stop" for p in pieces)
    answer = CloudAnswer(provider(fake_cloud, kind))
    for piece in pieces:
        answer.take(piece)
    assert (answer.usage().input_tokens, answer.usage().output_tokens) == (12, 4)
    assert answer.usage().cost == pytest.approx((12 * 3.0 + 4 * 15.0) / 1e6)


def test_the_openai_request_carries_the_model_system_prompt_key_and_sampling(fake_cloud) -> None:
    read_all(provider(fake_cloud, "openai"), SamplingSettings(max_tokens=64, temperature=0.2))
    (sent,) = fake_cloud.requests
    assert sent.path == "/v1/chat/completions" and sent.headers["Authorization"] == f"Bearer {KEY}"
    assert sent.body["model"] == "fake-openai" and sent.body["stream"] is True
    assert sent.body["messages"] == [{"role": "system", "content": "You are a helpful AI assistant."},
                                     {"role": "user", "content": "What is the capital of France?"}]
    assert (sent.body["max_tokens"], sent.body["temperature"]) == (64, 0.2)


def test_the_anthropic_request_puts_the_system_prompt_apart_and_sends_the_version(fake_cloud) -> None:
    read_all(provider(fake_cloud, "anthropic"))
    (sent,) = fake_cloud.requests
    assert sent.path == "/v1/messages" and sent.headers["x-api-key"] == KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"
    assert sent.body["system"] == "You are a helpful AI assistant."
    assert sent.body["messages"] == [{"role": "user", "content": "What is the capital of France?"}]


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_an_http_error_is_one_line_with_the_status_and_the_providers_words(fake_cloud, kind: str) -> None:
    fake_cloud.script.status, fake_cloud.script.error = 401, f"Incorrect API key provided: {KEY}"
    with pytest.raises(CloudError) as caught:
        read_all(provider(fake_cloud, kind))
    message = str(caught.value)
    assert "HTTP 401 (the API key was refused)" in message and "Incorrect API key provided" in message
    assert KEY not in message and "\n" not in message


def test_a_server_error_says_so(fake_cloud) -> None:
    fake_cloud.script.status, fake_cloud.script.error = 503, "overloaded"
    with pytest.raises(CloudError, match=r"HTTP 503 \(server error\): overloaded"):
        read_all(provider(fake_cloud))


def test_a_provider_that_stalls_times_out(fake_cloud) -> None:
    fake_cloud.script.stall = True
    with pytest.raises(CloudError, match=r"did not answer within 0.3 s"):
        read_all(provider(fake_cloud, timeout=0.3))


@pytest.mark.parametrize("kind", ["openai", "anthropic"])
def test_a_connection_dropped_mid_stream_is_an_error_after_the_words_that_came(fake_cloud, kind: str) -> None:
    fake_cloud.script.drop_after = 2
    got = []
    with pytest.raises(CloudError, match="dropped mid-answer|cut off"):
        for piece in stream_pieces(provider(fake_cloud, kind), KEY, ASK, SamplingSettings(), threading.Event()):
            got.append(piece)
    assert "".join(p.text for p in got if isinstance(p, Delta)) == "Paris is "


def test_nobody_listening_is_an_error_naming_the_host(fake_cloud) -> None:
    port = fake_cloud.port
    from tests.fake_cloud import stop_fake_cloud

    stop_fake_cloud(fake_cloud)
    with pytest.raises(CloudError, match=f"Could not reach 127.0.0.1:{port}"):
        read_all(Provider("openai", f"http://127.0.0.1:{port}/v1", "m", timeout=2))


def test_a_stop_ends_the_stream_quietly(fake_cloud) -> None:
    stop = threading.Event()
    got = []
    for piece in stream_pieces(provider(fake_cloud), KEY, ASK, SamplingSettings(), stop):
        got.append(piece)
        if isinstance(piece, Delta):
            stop.set()
    assert [p.text for p in got if isinstance(p, Delta)] == ["Paris "]
