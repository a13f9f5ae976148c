"""The OpenAI Responses API's wire format: a response object holding output items (reasoning, message,
function_call), and the typed server-sent events that stream it as OpenAI sends them.

A stream opens with response.created and response.in_progress; each output item is added, filled by deltas
(response.reasoning_text.delta, response.output_text.delta, response.function_call_arguments.delta) and done;
response.completed (or response.incomplete, when max_output_tokens cut it) carries the whole response; a
stream that cannot finish ends with an error event and response.failed. Each
streamed piece may open or close items, so the codec's objects are lists of events, sent in order.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any

from aiohttp import web

from engine.generation import Finished, Stats
from engine.messages import ToolCall
from engine.server.errors import ApiError
from engine.server.wire import send_typed_event

Event = dict[str, Any]
PARTS = {"reasoning": "reasoning_text", "message": "output_text"}
"""The content part each streamed item kind holds."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


def part(kind: str, text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []} if kind == "message" else {
        "type": "reasoning_text", "text": text}


def text_item(kind: str, item_id: str, text: str | None, status: str = "completed") -> dict[str, Any]:
    """A reasoning or message item; `text` None: just added, its content still to come."""
    content = [] if text is None else [part(kind, text)]
    if kind == "reasoning":
        return {"type": "reasoning", "id": item_id, "summary": [], "content": content, "status": status}
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def call_item(call: ToolCall, arguments: str | None = None, status: str = "completed") -> dict[str, Any]:
    return {"type": "function_call", "id": new_id("fc"), "call_id": call.id, "name": call.name,
            "arguments": call.arguments if arguments is None else arguments, "status": status}


def usage(stats: Stats) -> dict[str, Any]:
    return {"input_tokens": stats.prompt_tokens, "input_tokens_details": {"cached_tokens": stats.cached_tokens},
            "output_tokens": stats.generated_tokens, "output_tokens_details": {"reasoning_tokens": 0},
            "total_tokens": stats.prompt_tokens + stats.generated_tokens}


def error_event(error: ApiError, sequence_number: int) -> Event:
    return {"type": "error", "code": error.code, "message": error.message, "param": error.param,
            "sequence_number": sequence_number}


class ResponsesCodec:
    """One request's response: its id, creation time, the request's echoed settings, and while streaming, the
    item being filled and the items done."""

    content_type = "text/event-stream"

    def __init__(self, model: str, echo: dict[str, Any]) -> None:
        self.model, self.echo = model, echo
        self.id = new_id("resp")
        self.created_at = int(time.time())
        self.sequence = 0
        self.items: list[dict[str, Any]] = []
        self.open: tuple[str, str, list[str]] | None = None
        """The streamed item being filled: its kind, id and text so far."""

    def response(self, status: str, output: list[dict[str, Any]], finished: Finished | None = None) -> dict:
        incomplete = {"reason": "max_output_tokens"} if status == "incomplete" else None
        return {"id": self.id, "object": "response", "created_at": self.created_at, "status": status,
                "error": None, "incomplete_details": incomplete, "model": self.model, "output": output,
                "previous_response_id": None, "store": False, "truncation": "disabled", **self.echo,
                "usage": usage(finished.stats) if finished else None}

    def _event(self, kind: str, **fields: Any) -> Event:
        self.sequence += 1
        return {"type": kind, "sequence_number": self.sequence - 1, **fields}

    def _item_event(self, kind: str, item: dict[str, Any]) -> Event:
        return self._event(kind, output_index=len(self.items), item=item)

    def _part_event(self, kind: str, item_id: str, **fields: Any) -> Event:
        return self._event(kind, item_id=item_id, output_index=len(self.items), content_index=0, **fields)

    def _switch(self, kind: str) -> list[Event]:
        """Events that make the open item one of `kind` (closing another first)."""
        if self.open is not None and self.open[0] == kind:
            return []
        events = self._close()
        item_id = new_id("rs" if kind == "reasoning" else "msg")
        self.open = (kind, item_id, [])
        return [*events, self._item_event("response.output_item.added", text_item(kind, item_id, None, "in_progress")),
                self._part_event("response.content_part.added", item_id, part=part(kind, ""))]

    def _close(self, status: str = "completed") -> list[Event]:
        """Events that end the open item; `status` "incomplete" when max_output_tokens cut it."""
        if self.open is None:
            return []
        kind, item_id, texts = self.open
        text, item = "".join(texts), text_item(kind, item_id, "".join(texts), status)
        self.open = None
        done = "response.output_text.done" if kind == "message" else "response.reasoning_text.done"
        events = [self._part_event(done, item_id, text=text, **({"logprobs": []} if kind == "message" else {})),
                  self._part_event("response.content_part.done", item_id, part=part(kind, text)),
                  self._item_event("response.output_item.done", item)]
        self.items.append(item)
        return events

    def _text_delta(self, kind: str, text: str) -> list[Event]:
        events = self._switch(kind)
        assert self.open is not None
        self.open[2].append(text)
        name = "response.output_text.delta" if kind == "message" else "response.reasoning_text.delta"
        extra = {"logprobs": []} if kind == "message" else {}
        return [*events, self._part_event(name, self.open[1], delta=text, **extra)]

    def opening(self) -> Sequence[Any]:
        pending = self.response("in_progress", [])
        return [[self._event("response.created", response=pending),
                 self._event("response.in_progress", response=pending)]]

    def delta(self, text: str) -> list[Event]:
        return self._text_delta("message", text)

    def thinking(self, text: str) -> list[Event]:
        return self._text_delta("reasoning", text)

    def call_delta(self, call: ToolCall) -> list[list[Event]]:
        events = self._close()
        item = call_item(call)
        added = self._item_event("response.output_item.added", {**item, "arguments": "", "status": "in_progress"})
        fields = {"item_id": item["id"], "output_index": len(self.items)}
        events += [added, self._event("response.function_call_arguments.delta", delta=call.arguments, **fields),
                   self._event("response.function_call_arguments.done", arguments=call.arguments, name=call.name,
                               **fields),
                   self._item_event("response.output_item.done", item)]
        self.items.append(item)
        return [events]

    def closing(self, finished: Finished) -> Sequence[Any]:
        status = "incomplete" if finished.finish_reason == "length" else "completed"
        events = self._close(status)
        kind = "response.incomplete" if status == "incomplete" else "response.completed"
        return [[*events, self._event(kind, response=self.response(status, self.items, finished))]]

    def whole(self, finished: Finished, calls: Sequence[ToolCall] = ()) -> dict[str, Any]:
        status = "incomplete" if finished.finish_reason == "length" else "completed"
        output = [text_item("reasoning", new_id("rs"), finished.reasoning)] if finished.reasoning else []
        if finished.text or not calls:
            output.append(text_item("message", new_id("msg"), finished.text, status))
        output += [call_item(call) for call in calls]
        return self.response(status, output, finished)

    def failure(self, finished: Finished) -> ApiError:
        if finished.finish_reason == "cancelled":
            return ApiError(503, "The answer was stopped before it finished (the server is stopping).", "server_error",
                            None, "generation_stopped")
        return ApiError(500, f"Generation failed: {finished.error}", "server_error", None, "generation_failed")

    def error_body(self, error: ApiError) -> list[Event]:
        """A stream that cannot finish: the error, then response.failed carrying it and the items done so far."""
        self.sequence += 1
        failed = {**self.response("failed", self.items), "error": {"code": error.code, "message": error.message}}
        return [error_event(error, self.sequence - 1), self._event("response.failed", response=failed)]

    async def send(self, response: web.StreamResponse, data: Any) -> None:
        """Write one event, or a list of them in order."""
        for event in data if isinstance(data, list) else [data]:
            await send_typed_event(response, event)
