"""The Ollama-compatible API over plain HTTP against a live server: NDJSON streaming and the info endpoints."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from engine.generation import SamplingSettings
from engine.messages import user
from tests.conftest import LiveServer

MODEL = "tiny-llama"
HELLO = [{"role": "user", "content": "Hello there"}]
GREEDY = {"temperature": 0, "num_predict": 10, "repeat_penalty": 1.0}


def request(server: LiveServer, method: str, path: str, body: dict | None = None) -> http.client.HTTPResponse:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request(method, path, json.dumps(body) if body is not None else None)
    return connection.getresponse()


def ndjson(response: http.client.HTTPResponse) -> list[dict]:
    return [json.loads(line) for line in response.read().splitlines()]


def engine_answer(server: LiveServer, repetition_penalty: float = 1.0) -> str:
    settings = SamplingSettings(temperature=0, max_tokens=10, repetition_penalty=repetition_penalty)
    return server.engine.chat([user("Hello there")], settings, conversation_id="ref").result().text


def test_chat_streams_ndjson_ending_with_ollamas_counters(api_server: LiveServer) -> None:
    response = request(api_server, "POST", "/api/chat", {"model": MODEL, "messages": HELLO, "options": GREEDY})
    assert response.getheader("Content-Type").startswith("application/x-ndjson")
    lines = ndjson(response)
    *pieces, last = lines
    assert all(line["done"] is False and line["message"]["role"] == "assistant" for line in pieces)
    assert "".join(line["message"]["content"] for line in pieces) == engine_answer(api_server)
    assert (last["done"], last["done_reason"], last["eval_count"]) == (True, "length", 10)
    assert last["prompt_eval_count"] > 0
    assert last["eval_duration"] > 0 and last["total_duration"] >= last["eval_duration"]
    assert last["created_at"].endswith("Z")


def test_chat_without_streaming_is_one_object(api_server: LiveServer) -> None:
    body = {"model": MODEL, "messages": HELLO, "options": GREEDY, "stream": False}
    answer = json.loads(request(api_server, "POST", "/api/chat", body).read())
    assert answer["message"]["content"] == engine_answer(api_server)
    assert answer["done"] is True and answer["eval_count"] == 10


def test_ollamas_default_repeat_penalty_applies_when_options_leave_it_out(api_server: LiveServer) -> None:
    body = {"model": MODEL, "messages": HELLO, "options": {"temperature": 0, "num_predict": 10}, "stream": False}
    answer = json.loads(request(api_server, "POST", "/api/chat", body).read())
    assert answer["message"]["content"] == engine_answer(api_server, repetition_penalty=1.1)


def test_a_negative_seed_means_a_random_one_as_in_ollama(api_server: LiveServer) -> None:
    body = {"model": MODEL, "messages": HELLO, "options": {"seed": -1, "num_predict": 2}, "stream": False}
    assert request(api_server, "POST", "/api/chat", body).status == 200


def test_a_model_tag_of_latest_names_the_loaded_model(api_server: LiveServer) -> None:
    body = {"model": f"{MODEL}:latest", "messages": HELLO, "options": GREEDY, "stream": False}
    assert request(api_server, "POST", "/api/chat", body).status == 200


def test_generate_applies_the_chat_template_unless_raw(api_server: LiveServer) -> None:
    body = {"model": MODEL, "prompt": "Hello there", "options": GREEDY, "stream": False}
    templated = json.loads(request(api_server, "POST", "/api/generate", body).read())
    raw = json.loads(request(api_server, "POST", "/api/generate", {**body, "raw": True}).read())
    direct = api_server.engine.complete("Hello there", SamplingSettings(temperature=0, max_tokens=10)).result().text
    assert templated["response"] == engine_answer(api_server)
    assert raw["response"] == direct


def test_generate_with_an_empty_prompt_reports_the_model_loaded(api_server: LiveServer) -> None:
    answer = json.loads(request(api_server, "POST", "/api/generate", {"model": MODEL, "prompt": ""}).read())
    assert (answer["done"], answer["done_reason"]) == (True, "load")


def test_tags_ps_and_show_describe_the_loaded_model(api_server: LiveServer) -> None:
    tags = json.loads(request(api_server, "GET", "/api/tags").read())["models"]
    running = json.loads(request(api_server, "GET", "/api/ps").read())["models"]
    shown = json.loads(request(api_server, "POST", "/api/show", {"model": MODEL}).read())
    assert [m["name"] for m in tags] == [m["name"] for m in running] == [MODEL]
    assert tags[0]["size"] > 0 and tags[0]["details"]["family"] == "llama"
    assert shown["model_info"]["llama.context_length"] == 2048


def test_version_and_root_answer_like_ollama(api_server: LiveServer) -> None:
    assert "version" in json.loads(request(api_server, "GET", "/api/version").read())
    root = request(api_server, "GET", "/")
    assert root.status == 200 and b"running" in root.read()
