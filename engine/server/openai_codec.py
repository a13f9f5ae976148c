"""OpenAI's wire format: completion objects, server-sent event chunks, `[DONE]`, and its error bodies.

Chat and text completions differ only in the shape of a choice, so one codec serves both, given its `Shape`.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from engine.generation import Finished, Stats
from engine.messages import ToolCall
from engine.server.errors import ApiError
from engine.server.wire import send_event


class ChatShape:
    object = "chat.completion"
    chunk_object = "chat.completion.chunk"
    id_prefix = "chatcmpl"

    def opening(self) -> dict | None:
        return {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}

    def delta(self, text: str) -> dict:
        return {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}

    def thinking(self, text: str) -> dict:
        """The model's thinking as DeepSeek's API and vLLM stream it: `reasoning_content`, apart from `content`."""
        return {"index": 0, "delta": {"reasoning_content": text}, "logprobs": None, "finish_reason": None}

    def closing(self, reason: str) -> dict:
        return {"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}

    def whole(self, text: str, reason: str, reasoning: str = "") -> dict:
        message = {"role": "assistant", "content": text, "refusal": None}
        if reasoning:
            message["reasoning_content"] = reasoning
        return {"index": 0, "message": message, "logprobs": None, "finish_reason": reason}

    def call_deltas(self, call: ToolCall, index: int) -> list[dict]:
        """As OpenAI streams a call: its id, type and name first, then its arguments."""
        head = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        body = {"index": index, "function": {"arguments": call.arguments}}
        return [self._tool_delta(head), self._tool_delta(body)]

    def _tool_delta(self, call: dict) -> dict:
        return {"index": 0, "delta": {"tool_calls": [call]}, "logprobs": None, "finish_reason": None}

    def with_calls(self, choice: dict, calls: Sequence[ToolCall]) -> dict:
        """A whole answer's choice holding tool calls: content is null when the model wrote nothing else."""
        wire = [{"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in calls]
        message = {**choice["message"], "content": choice["message"]["content"] or None, "tool_calls": wire}
        return {**choice, "message": message}


@dataclass(frozen=True)
class CompletionShape:
    echo: str
    """The prompt, when the request asked for it to be echoed before the completion."""
    object = "text_completion"
    chunk_object = "text_completion"
    id_prefix = "cmpl"

    def opening(self) -> dict | None:
        return self.delta(self.echo) if self.echo else None

    def delta(self, text: str) -> dict:
        return {"index": 0, "text": text, "logprobs": None, "finish_reason": None}

    def closing(self, reason: str) -> dict:
        return {"index": 0, "text": "", "logprobs": None, "finish_reason": reason}

    def thinking(self, text: str) -> dict:
        """A raw completion is never split into thinking (the engine passes it through), so this is text too."""
        return self.delta(text)

    def whole(self, text: str, reason: str, reasoning: str = "") -> dict:
        return {"index": 0, "text": self.echo + text, "logprobs": None, "finish_reason": reason}


Shape = ChatShape | CompletionShape


def usage(stats: Stats) -> dict[str, Any]:
    """With a draft model, its tokens the model kept and threw away, as OpenAI counts a prediction's."""
    counts = {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.generated_tokens,
        "total_tokens": stats.prompt_tokens + stats.generated_tokens,
        "prompt_tokens_details": {"cached_tokens": stats.cached_tokens},
    }
    if stats.draft is not None and not stats.draft.note:
        draft = stats.draft
        counts["completion_tokens_details"] = {"accepted_prediction_tokens": draft.accepted,
                                               "rejected_prediction_tokens": draft.proposed - draft.accepted}  # fmt: skip
    return counts


def called(reason: str, calls: int) -> str:
    """OpenAI's finish_reason: "tool_calls" when an answer that ended by itself made calls."""
    return "tool_calls" if calls and reason == "stop" else reason


def error_body(error: ApiError) -> dict[str, Any]:
    return {"error": {"message": error.message, "type": error.kind, "param": error.param, "code": error.code}}


class OpenAICodec:
    """One request's objects: they share an id, a creation time and the model's name."""

    content_type = "text/event-stream"

    def __init__(self, shape: Shape, model: str, include_usage: bool) -> None:
        self.shape, self.model, self.include_usage = shape, model, include_usage
        self.id = f"{shape.id_prefix}-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())
        self.calls = 0
        """Tool calls streamed so far: a streamed answer that made any ends with finish_reason "tool_calls"."""

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def _chunk(self, choice: dict) -> dict:
        extra = {"usage": None} if self.include_usage else {}
        return {**self._head(self.shape.chunk_object), "choices": [choice], **extra}

    def opening(self) -> Sequence[Any]:
        opening = self.shape.opening()
        return [] if opening is None else [self._chunk(opening)]

    def delta(self, text: str) -> dict:
        return self._chunk(self.shape.delta(text))

    def thinking(self, text: str) -> dict:
        return self._chunk(self.shape.thinking(text))

    def call_delta(self, call: ToolCall) -> list[dict]:
        assert isinstance(self.shape, ChatShape), "tool calls are read from chat answers only"
        self.calls += 1
        return [self._chunk(choice) for choice in self.shape.call_deltas(call, self.calls - 1)]

    def closing(self, finished: Finished) -> Sequence[Any]:
        usage_chunk = {**self._head(self.shape.chunk_object), "choices": [], "usage": usage(finished.stats)}
        reason = called(finished.finish_reason, self.calls)
        return [self._chunk(self.shape.closing(reason)), *([usage_chunk] if self.include_usage else []), "[DONE]"]

    def whole(self, finished: Finished, calls: Sequence[ToolCall] = ()) -> dict:
        choice = self.shape.whole(finished.text, called(finished.finish_reason, len(calls)), finished.reasoning)
        if calls:
            assert isinstance(self.shape, ChatShape), "tool calls are read from chat answers only"
            choice = self.shape.with_calls(choice, calls)
        return {**self._head(self.shape.object), "choices": [choice], "usage": usage(finished.stats)}

    def failure(self, finished: Finished) -> ApiError:
        if finished.finish_reason == "cancelled":
            return ApiError(503, "The answer was stopped before it finished (the server is stopping).", "server_error",
                            None, "generation_stopped")
        return ApiError(500, f"Generation failed: {finished.error}", "server_error", None, "generation_failed")

    def error_body(self, error: ApiError) -> dict:
        return error_body(error)

    async def send(self, response: web.StreamResponse, data: Any) -> None:
        await send_event(response, data)
