"""A reasoning model behind the API server: its thinking never reaches `content`; OpenAI clients get it as
`reasoning_content` (DeepSeek's and vLLM's field), Ollama clients as `thinking` (Ollama's)."""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlsplit

from tests.conftest import LiveServer

HI = [{"role": "user", "content": "Hi"}]


def post(server: LiveServer, path: str, body: dict) -> bytes:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", path, json.dumps({"model": "scripted-thinker", **body}), {"Content-Type": "application/json"})
    return connection.getresponse().read()


def test_an_openai_answer_carries_the_thinking_as_reasoning_content(thinking_server: LiveServer) -> None:
    [choice] = json.loads(post(thinking_server, "/v1/chat/completions", {"messages": HI}))["choices"]
    assert (choice["message"]["content"], choice["message"]["reasoning_content"]) == ("Hello!", "A greeting.")


def test_an_openai_stream_sends_the_thinking_in_reasoning_content_deltas(thinking_server: LiveServer) -> None:
    lines = post(thinking_server, "/v1/chat/completions", {"messages": HI, "stream": True}).splitlines()
    deltas = [json.loads(line[6:])["choices"][0]["delta"] for line in lines if line.startswith(b"data: {")]
    content = "".join(d.get("content", "") for d in deltas)
    assert (content, "".join(d.get("reasoning_content", "") for d in deltas)) == ("Hello!", "A greeting.")


def test_an_ollama_answer_carries_the_thinking_as_thinking(thinking_server: LiveServer) -> None:
    message = json.loads(post(thinking_server, "/api/chat", {"messages": HI, "stream": False}))["message"]
    assert (message["content"], message["thinking"]) == ("Hello!", "A greeting.")


def test_an_ollama_stream_sends_the_thinking_apart_from_the_content(thinking_server: LiveServer) -> None:
    objects = [json.loads(line) for line in post(thinking_server, "/api/chat", {"messages": HI}).splitlines()]
    messages = [o["message"] for o in objects]
    content = "".join(m["content"] for m in messages)
    assert (content, "".join(m.get("thinking", "") for m in messages)) == ("Hello!", "A greeting.")
