"""The request flags that steer thinking reach the model's own chat template: Ollama's `think`, OpenAI's
`chat_template_kwargs` (vLLM's and LM Studio's) and `reasoning_effort` (read by gpt-oss's template)."""

from __future__ import annotations

import http.client
import json
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from engine.chat_template import template_switches
from engine.generation import Engine
from engine.server import ServerConfig
from tests.conftest import LiveServer
from tests.reasoning_models import TEMPLATES, ScriptedBackend, install

HI = [{"role": "user", "content": "Hi"}]
CLOSED_THINKING = "<think>\n\n</think>\n\n"
"""What Qwen3's template writes after the assistant's cue when asked not to think."""


def family_server(engine: Engine, tokenizer: Any) -> tuple[LiveServer, ScriptedBackend]:
    backend = ScriptedBackend(tokenizer, tokenizer.encode("Hello!", add_special_tokens=False))
    install(engine, backend)
    return LiveServer(engine, ServerConfig(port=0)), backend


@pytest.fixture
def qwen3_server(engine: Engine, family_tokenizers: Callable[[str], Any]) -> Iterator[tuple[LiveServer, Any]]:
    server, backend = family_server(engine, family_tokenizers("qwen3"))
    yield server, lambda: backend.tokenizer.decode(backend.prompts[-1])
    server.close()


@pytest.fixture
def gpt_oss_server(engine: Engine, family_tokenizers: Callable[[str], Any]) -> Iterator[tuple[LiveServer, Any]]:
    server, backend = family_server(engine, family_tokenizers("gpt_oss"))
    yield server, lambda: backend.tokenizer.decode(backend.prompts[-1])
    server.close()


def post(server: LiveServer, path: str, body: dict) -> tuple[int, Any]:
    url = urlsplit(server.url)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    connection.request("POST", path, json.dumps({"model": "scripted-thinker", "stream": False, **body}),
                       {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, json.loads(response.read())


def test_ollama_think_false_asks_the_template_not_to_think(qwen3_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = qwen3_server
    post(server, "/api/chat", {"messages": HI, "think": False})
    assert last_prompt().endswith(CLOSED_THINKING)


def test_ollama_think_true_leaves_the_thinking_open(qwen3_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = qwen3_server
    post(server, "/api/chat", {"messages": HI, "think": True})
    assert last_prompt().endswith("<|im_start|>assistant\n")


def test_ollama_think_with_an_unknown_value_is_a_400(qwen3_server: tuple[LiveServer, Any]) -> None:
    status, body = post(qwen3_server[0], "/api/chat", {"messages": HI, "think": "very"})
    assert status == 400 and "think" in body["error"]


def test_openai_chat_template_kwargs_turn_thinking_off(qwen3_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = qwen3_server
    post(server, "/v1/chat/completions", {"messages": HI, "chat_template_kwargs": {"enable_thinking": False}})
    assert last_prompt().endswith(CLOSED_THINKING)


def test_an_unknown_chat_template_kwarg_is_refused_by_name(qwen3_server: tuple[LiveServer, Any]) -> None:
    status, body = post(qwen3_server[0], "/v1/chat/completions", {"messages": HI, "chat_template_kwargs": {"x": 1}})
    assert status == 400 and body["error"]["param"] == "chat_template_kwargs.x"


def test_openai_reasoning_effort_reaches_a_gpt_oss_template(gpt_oss_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = gpt_oss_server
    post(server, "/v1/chat/completions", {"messages": HI, "reasoning_effort": "high"})
    assert "Reasoning: high" in last_prompt()


def test_ollama_think_as_an_effort_reaches_a_gpt_oss_template(gpt_oss_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = gpt_oss_server
    post(server, "/api/chat", {"messages": HI, "think": "low"})
    assert "Reasoning: low" in last_prompt()


def test_reasoning_effort_is_not_passed_to_a_template_that_does_not_read_it() -> None:
    qwen3 = (TEMPLATES / "qwen3.jinja").read_text()
    assert template_switches(qwen3, None, "low") == {}


def test_anthropic_thinking_disabled_asks_the_template_not_to_think(qwen3_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = qwen3_server
    post(server, "/v1/messages", {"messages": HI, "max_tokens": 50, "thinking": {"type": "disabled"}})
    assert last_prompt().endswith(CLOSED_THINKING)


def test_responses_reasoning_effort_reaches_a_gpt_oss_template(gpt_oss_server: tuple[LiveServer, Any]) -> None:
    server, last_prompt = gpt_oss_server
    post(server, "/v1/responses", {"input": "Hi", "reasoning": {"effort": "low"}})
    assert "Reasoning: low" in last_prompt()
