"""Anthropic's Messages API wire format.

POST {base}/v1/messages with `stream: true`; named events: `message_start` (the prompt's token count),
`content_block_delta` (text), `message_delta` (the stop reason and the answer's token count), `message_stop`,
and `error`.
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

VERSION = "2023-06-01"
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length"}


def request(provider: Provider, key: str, messages: list[Message], settings: SamplingSettings) -> HttpRequest:
    """(url, headers, JSON body) of the streaming request."""
    system, turns = plain_turns(messages)
    body: dict[str, Any] = {
        "model": provider.model,
        "messages": turns,
        "max_tokens": settings.max_tokens,
        "temperature": min(settings.temperature, 1.0),
        "stream": True,
    }
    if system:
        body["system"] = system
    if settings.stop:
        body["stop_sequences"] = list(settings.stop)
    headers = {"x-api-key": key, "anthropic-version": VERSION, "content-type": "application/json"}
    return f"{provider.url}/v1/messages", headers, body


def pieces(event: str, data: str) -> list[Piece]:
    """What one server-sent event adds to the answer."""
    payload = json_object(data)
    kind = payload.get("type", event)
    if kind == "error":
        raise CloudError(f"The provider reported an error: {error_message(payload)}")
    if kind == "message_start":
        usage = (payload.get("message") or {}).get("usage") or {}
        return [Usage(usage.get("input_tokens"), usage.get("output_tokens"))]
    if kind == "content_block_delta":
        text = (payload.get("delta") or {}).get("text")
        return [Delta(text)] if text else []
    if kind == "message_delta":
        found: list[Piece] = [Usage(None, (payload.get("usage") or {}).get("output_tokens"))]
        reason = (payload.get("delta") or {}).get("stop_reason")
        return found + ([Done(FINISH.get(reason, "stop"))] if reason else [])
    return []

