"""Ollama's wire format: NDJSON objects, the last with `done: true` and Ollama's counters (durations in
nanoseconds), and its error bodies."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from typing import Any

from aiohttp import web

from engine.generation import Finished
from engine.messages import ToolCall
from engine.server.errors import ApiError
from engine.server.wire import iso_now, send_line

Piece = Callable[[str, str], dict[str, Any]]
"""How a piece of answer text and of thinking sit in a response object (`message` for chat, `response` for
generate). Thinking goes in `thinking`, as Ollama sends it, and only when there is some."""


def thought(thinking: str) -> dict[str, str]:
    return {"thinking": thinking} if thinking else {}


def chat_piece(text: str, thinking: str = "") -> dict[str, Any]:
    return {"message": {"role": "assistant", "content": text, **thought(thinking)}}


def generate_piece(text: str, thinking: str = "") -> dict[str, Any]:
    return {"response": text, **thought(thinking)}


def ollama_call(call: ToolCall) -> dict[str, Any]:
    """Ollama's tool call: no id, the arguments as an object."""
    try:
        arguments = json.loads(call.arguments)
    except ValueError:
        arguments = call.arguments
    return {"function": {"name": call.name, "arguments": arguments}}


def with_calls(body: dict[str, Any], calls: Sequence[ToolCall]) -> dict[str, Any]:
    if not calls:
        return body
    return {**body, "message": {**body["message"], "tool_calls": [ollama_call(call) for call in calls]}}


def nanoseconds(seconds: float) -> int:
    return int(seconds * 1e9)


def done_fields(finished: Finished, started: float) -> dict[str, Any]:
    stats = finished.stats
    return {
        "done": True,
        "done_reason": finished.finish_reason,
        "total_duration": nanoseconds(time.perf_counter() - started),
        "load_duration": 0,
        "prompt_eval_count": stats.prompt_tokens,
        "prompt_eval_duration": nanoseconds(stats.prefilled_tokens / stats.prompt_tps) if stats.prompt_tps else 0,
        "eval_count": stats.generated_tokens,
        "eval_duration": nanoseconds(stats.generated_tokens / stats.generation_tps) if stats.generation_tps else 0,
    }


def error_body(error: ApiError) -> dict[str, Any]:
    return {"error": error.message}


class OllamaCodec:
    """One request's objects: they name the model and count `total_duration` from the codec's creation."""

    content_type = "application/x-ndjson"

    def __init__(self, model: str, piece: Piece) -> None:
        self.model, self.piece = model, piece
        self.started = time.perf_counter()

    def _object(self, text: str, thinking: str = "") -> dict[str, Any]:
        return {"model": self.model, "created_at": iso_now(), **self.piece(text, thinking)}

    def opening(self) -> Sequence[Any]:
        return []

    def delta(self, text: str) -> dict[str, Any]:
        return {**self._object(text), "done": False}

    def thinking(self, text: str) -> dict[str, Any]:
        return {**self._object("", text), "done": False}

    def call_delta(self, call: ToolCall) -> list[dict[str, Any]]:
        return [with_calls(self.delta(""), [call])]

    def closing(self, finished: Finished) -> Sequence[Any]:
        return [{**self._object(""), **done_fields(finished, self.started)}]

    def whole(self, finished: Finished, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        body = {**self._object(finished.text, finished.reasoning), **done_fields(finished, self.started)}
        return with_calls(body, calls)

    def failure(self, finished: Finished) -> ApiError:
        if finished.finish_reason == "cancelled":
            return ApiError(503, "the answer was stopped before it finished (the server is stopping)", "server_error")
        return ApiError(500, f"generation failed: {finished.error}", "server_error")

    def error_body(self, error: ApiError) -> dict[str, Any]:
        return error_body(error)

    async def send(self, response: web.StreamResponse, data: Any) -> None:
        await send_line(response, data)
