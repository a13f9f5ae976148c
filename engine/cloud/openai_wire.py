"""The OpenAI-compatible chat completions wire format (OpenAI, OpenRouter, Groq, vLLM, LM Studio, Ollama...).

POST {base}/chat/completions with `stream: true`; the answer comes as `data: {chunk}` events ending with
`data: [DONE]`; `stream_options.include_usage` asks for a last chunk with the token counts.
"""

from __future__ import annotations

from typing import Any

from engine.cloud.pieces import (
    CloudError,
    Delta,
    Done,
    HttpRequest,
    Piece,
    Usage,
    error_message,
    json_object,
    plain_turns,
)
from engine.cloud.provider import Provider
from engine.generation import SamplingSettings
from engine.messages import Message

FINISH = {"stop": "stop", "length": "length"}


def request(provider: Provider, key: str, messages: list[Message], settings: SamplingSettings) -> HttpRequest:
    """(url, headers, JSON body) of the streaming request."""
    system, turns = plain_turns(messages)
    body: dict[str, Any] = {
        "model": provider.model,
        "messages": ([{"role": "system", "content": system}] if system else []) + turns,
        "stream": True,
        "stream_options": {"include_usage": True},
        "max_tokens": settings.max_tokens,
        "temperature": settings.temperature,
        "top_p": settings.top_p,
    }
    if settings.stop:
        body["stop"] = list(settings.stop)
    headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
    return f"{provider.url}/chat/completions", headers, body


def pieces(event: str, data: str) -> list[Piece]:
    """What one server-sent event adds to the answer."""
    if data.strip() == "[DONE]":
        return [Done("stop")]
    chunk = json_object(data)
    if "error" in chunk:
        raise CloudError(f"The provider reported an error: {error_message(chunk)}")
    found: list[Piece] = []
    for choice in chunk.get("choices") or []:
        text = (choice.get("delta") or {}).get("content")
        if text:
            found.append(Delta(text))
        if choice.get("finish_reason"):
            found.append(Done(FINISH.get(choice["finish_reason"], "stop")))
    usage = chunk.get("usage")
    if usage:
        found.append(Usage(usage.get("prompt_tokens"), usage.get("completion_tokens")))
    return found

