"""Anthropic's Messages wire format: a message of content blocks (thinking, text, tool_use), its stop_reason, and
the typed server-sent events that stream it: message_start, content_block_start / _delta (text_delta,
thinking_delta, input_json_delta) / _stop, message_delta with the stop_reason, message_stop. Errors are
Anthropic's: {"type": "error", "error": {"type": ..., "message": ...}}.

Each streamed piece may end one block and start another, so the codec's objects are lists of events.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from engine.generation import Finished, Stats
from engine.messages import ToolCall
from engine.server.errors import ApiError
from engine.server.wire import send_typed_event

Event = dict[str, Any]
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 503: "overloaded_error"}
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens"}
DELTAS = {"text": ("text_delta", "text"), "thinking": ("thinking_delta", "thinking")}
"""A streamed block's kind -> its delta's type and field."""


def error_body(error: ApiError) -> dict[str, Any]:
    return {"type": "error", "error": {"type": ERROR_TYPES.get(error.status, "api_error"), "message": error.message}}


def tool_input(call: ToolCall) -> dict[str, Any]:
    """A call's arguments as the object Anthropic's `input` is (the reader passes only calls that parse)."""
    try:
        arguments = json.loads(call.arguments or "{}")
    except ValueError:
        return {}
    return arguments if isinstance(arguments, dict) else {}


def empty_block(kind: str) -> dict[str, Any]:
    return {"type": "thinking", "thinking": "", "signature": ""} if kind == "thinking" else {"type": "text", "text": ""}


def tool_use(call: ToolCall, arguments: dict[str, Any]) -> dict[str, Any]:
    return {"type": "tool_use", "id": call.id, "name": call.name, "input": arguments}


def stop_reason(finished: Finished, calls: int) -> str:
    reason = STOP_REASONS.get(finished.finish_reason, "end_turn")
    return "tool_use" if calls and reason == "end_turn" else reason


def usage(stats: Stats) -> dict[str, Any]:
    """Anthropic's counts: `input_tokens` are the prompt tokens read anew, those the prompt cache held apart."""
    return {"input_tokens": stats.prompt_tokens - stats.cached_tokens, "output_tokens": stats.generated_tokens,
            "cache_read_input_tokens": stats.cached_tokens, "cache_creation_input_tokens": 0}


class AnthropicCodec:
    """One request's message: its id and model, and while streaming the open block and how many there were."""

    content_type = "text/event-stream"

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = f"msg_{uuid.uuid4().hex[:24]}"
        self.blocks = 0
        self.open: str | None = None
        """The kind of the streamed block being filled ("text" or "thinking")."""
        self.calls = 0

    def message(self, content: list[dict[str, Any]], reason: str | None, stats: Stats | None) -> dict[str, Any]:
        counts = usage(stats) if stats else {"input_tokens": 0, "output_tokens": 0}
        return {"id": self.id, "type": "message", "role": "assistant", "model": self.model, "content": content,
                "stop_reason": reason, "stop_sequence": None, "usage": counts}

    def _close(self) -> list[Event]:
        if self.open is None:
            return []
        self.open = None
        self.blocks += 1
        return [{"type": "content_block_stop", "index": self.blocks - 1}]

    def _piece(self, kind: str, text: str) -> list[Event]:
        events = []
        if self.open != kind:
            events = [*self._close(),
                      {"type": "content_block_start", "index": self.blocks, "content_block": empty_block(kind)}]
            self.open = kind
        delta_type, field = DELTAS[kind]
        return [*events, {"type": "content_block_delta", "index": self.blocks, "delta": {"type": delta_type,
                                                                                        field: text}}]

    def opening(self) -> Sequence[Any]:
        return [{"type": "message_start", "message": self.message([], None, None)}]

    def delta(self, text: str) -> list[Event]:
        return self._piece("text", text)

    def thinking(self, text: str) -> list[Event]:
        return self._piece("thinking", text)

    def call_delta(self, call: ToolCall) -> list[list[Event]]:
        events = self._close()
        index = self.blocks
        self.blocks += 1
        self.calls += 1
        arguments = json.dumps(tool_input(call))
        return [[*events, {"type": "content_block_start", "index": index, "content_block": tool_use(call, {})},
                 {"type": "content_block_delta", "index": index,
                  "delta": {"type": "input_json_delta", "partial_json": arguments}},
                 {"type": "content_block_stop", "index": index}]]

    def closing(self, finished: Finished) -> Sequence[Any]:
        counts = usage(finished.stats)
        return [[*self._close(),
                 {"type": "message_delta", "delta": {"stop_reason": stop_reason(finished, self.calls),
                                                     "stop_sequence": None}, "usage": counts},
                 {"type": "message_stop"}]]

    def whole(self, finished: Finished, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        content = [{"type": "thinking", "thinking": finished.reasoning, "signature": ""}] if finished.reasoning else []
        if finished.text or not calls:
            content.append({"type": "text", "text": finished.text})
        content += [tool_use(call, tool_input(call)) for call in calls]
        return self.message(content, stop_reason(finished, len(calls)), finished.stats)

    def failure(self, finished: Finished) -> ApiError:
        if finished.finish_reason == "cancelled":
            return ApiError(503, "The answer was stopped before it finished (the server is stopping).", "server_error")
        return ApiError(500, f"Generation failed: {finished.error}", "server_error")

    def error_body(self, error: ApiError) -> Event:
        return error_body(error)

    async def send(self, response: web.StreamResponse, data: Any) -> None:
        """Write one event, or a list of them in order."""
        for event in data if isinstance(data, list) else [data]:
            await send_typed_event(response, event)
