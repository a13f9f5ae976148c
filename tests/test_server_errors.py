"""Refusals: each bad request gets a 4xx with an OpenAI-style error body (Ollama's on /api/), and the server goes on."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable
from urllib.parse import urlsplit
from pathlib import Path

import openai
import pytest

from engine.generation import Engine
from tests.conftest import LiveServer

MODEL = "tiny-llama"
HELLO = [{"role": "user", "content": "Hello"}]


def send(server: LiveServer, method: str, path: str, body: bytes | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request(method, path, body, headers or {})
    response = connection.getresponse()
    return response.status, json.loads(response.read() or b"null")


def chat(server: LiveServer, **fields: object) -> tuple[int, dict]:
    body = {"model": MODEL, "messages": HELLO, "max_tokens": 2, **fields}
    return send(server, "POST", "/v1/chat/completions", json.dumps(body).encode())


def test_malformed_json_is_a_400_with_an_openai_error_body(api_server: LiveServer) -> None:
    status, body = send(api_server, "POST", "/v1/chat/completions", b'{"model": ')
    assert status == 400
    assert body["error"]["type"] == "invalid_request_error" and body["error"]["code"] == "invalid_json"


def test_a_body_that_is_not_an_object_is_a_400(api_server: LiveServer) -> None:
    status, body = send(api_server, "POST", "/v1/chat/completions", b"[1, 2]")
    assert status == 400 and "JSON object" in body["error"]["message"]


def test_an_unknown_model_is_a_404_the_openai_client_understands(api_server: LiveServer) -> None:
    client = api_server.openai()
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert caught.value.code == "model_not_found"


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": 3}, "temperature"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"seed": -1}, "seed"),
        ({"max_tokens": 2.5}, "max_tokens"),
        ({"stream": "yes"}, "stream"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"stop": [1]}, "stop"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "wizard", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "user"}]}, "messages[0].content"),
        ({"model": None}, "model"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
    ],
)
def test_bad_fields_are_a_400_naming_the_field(api_server: LiveServer, fields: dict, param: str) -> None:
    status, body = chat(api_server, **fields)
    assert status == 400
    assert body["error"]["param"] == param


@pytest.mark.parametrize(
    "fields",
    [
        {"n": 2},
        {"logprobs": True},
        {"logit_bias": {"5": 10}},
        {"functions": [{"name": "f"}]},
    ],
)
def test_fields_that_would_change_the_answer_and_are_not_supported_are_refused(api_server: LiveServer, fields: dict) -> None:
    status, body = chat(api_server, **fields)
    assert status == 400
    assert body["error"]["code"] == "unsupported_parameter"
    assert "not supported" in body["error"]["message"]


def test_unknown_fields_are_refused_as_openai_does(api_server: LiveServer) -> None:
    status, body = chat(api_server, temprature=0.5)
    assert status == 400
    assert body["error"]["message"] == "Unrecognized request argument supplied: temprature"


def test_fields_that_only_describe_the_caller_are_ignored(api_server: LiveServer) -> None:
    status, body = chat(api_server, user="someone", metadata={"k": "v"}, store=False)
    assert status == 200 and body["choices"][0]["message"]["content"] is not None


def test_a_body_over_the_size_limit_is_a_413(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_body_bytes=1024)
    status, body = send(server, "POST", "/v1/chat/completions", json.dumps({"model": MODEL, "pad": "x" * 4096}).encode())
    assert status == 413 and "error" in body


def test_unknown_endpoints_and_methods_get_json_errors(api_server: LiveServer) -> None:
    assert send(api_server, "GET", "/v1/no-such-endpoint")[0] == 404
    status, body = send(api_server, "GET", "/v1/chat/completions")
    assert status == 405 and body["error"]["message"] == "GET is not allowed on /v1/chat/completions"


def test_ollama_routes_answer_errors_in_ollamas_shape(api_server: LiveServer) -> None:
    status, body = send(api_server, "POST", "/api/chat", json.dumps({"model": "nope", "messages": HELLO}).encode())
    assert status == 404 and body == {"error": "The model 'nope' does not exist: it is neither loaded nor among the models on this machine."}


def test_with_an_api_key_requests_without_it_are_a_401(serve: Callable[..., LiveServer]) -> None:
    server = serve(api_key="s3cret")
    wrong = server.openai(api_key="guess")
    right = server.openai(api_key="s3cret")
    with pytest.raises(openai.AuthenticationError):
        wrong.models.list()
    assert send(server, "GET", "/api/tags")[0] == 401
    assert [model.id for model in right.models.list()] == [MODEL]


def test_requests_addressed_to_another_host_are_refused_on_loopback(api_server: LiveServer) -> None:
    status, body = send(api_server, "GET", "/v1/models", headers={"Host": "attacker.example:80"})
    assert status == 403 and body["error"]["code"] == "host_not_allowed"


def test_web_pages_from_elsewhere_are_refused_and_local_ones_allowed(api_server: LiveServer) -> None:
    status, body = send(api_server, "GET", "/v1/models", headers={"Origin": "https://evil.example"})
    assert status == 403 and body["error"]["code"] == "origin_not_allowed"
    url = urlsplit(api_server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("OPTIONS", "/v1/chat/completions", headers={
        "Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"})
    preflight = connection.getresponse()
    preflight.read()
    assert preflight.status == 204 and "Authorization" in preflight.getheader("Access-Control-Allow-Headers")
    connection.request("GET", "/v1/models", headers={"Origin": "http://localhost:3000"})
    assert connection.getresponse().getheader("Access-Control-Allow-Origin") == "http://localhost:3000"


def test_an_allowed_origin_may_call_from_a_browser(serve: Callable[..., LiveServer]) -> None:
    server = serve(allowed_origins=("https://app.example",))
    assert send(server, "GET", "/v1/models", headers={"Origin": "https://app.example"})[0] == 200


def test_without_a_model_or_a_store_the_model_list_is_empty_and_a_request_is_a_404(
    engine: Engine, empty_hf_cache: Path, cabin_data: Path
) -> None:
    from engine.server import ServerConfig

    server = LiveServer(engine, ServerConfig(port=0))
    try:
        assert send(server, "GET", "/v1/models")[1]["data"] == []
        status, body = chat(server)
        assert status == 404 and body["error"]["code"] == "model_not_found"
    finally:
        server.close()
