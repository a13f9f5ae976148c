"""One request's path through the server, whatever its wire format: its turn in the request queue, the
engine call, and the generation's events turned into a stream or one answer.

A wire format only renders: a `Codec` says how the opening, each text delta, each tool call, the good end,
the whole answer and a failure look in its format, and how one streamed object is written (SSE, NDJSON). When
the request offered tools, a ToolCallReader (engine/tools/reader.py) splits the calls out of the text. The
core decides when each is sent. A generation that ends stopped or failed becomes the codec's error,
in the stream when it has begun, as the HTTP reply otherwise; a client that goes away cancels its
handler (aiohttp's handler_cancellation), and leaving the queue's turn stops its generation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Protocol

from aiohttp import web

from engine.generation import Engine, Event, Finished, Generation, SamplingSettings, Token
from engine.messages import ToolCall
from engine.server.errors import ApiError
from engine.server.batch_turns import EngineCall, chat_tokens, text_tokens
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.wire import json_response, open_stream
from engine.tools.reader import TextOrCall, ToolCallReader

ANSWERED = ("stop", "length")
"""Finish reasons of a complete answer; anything else (cancelled, error) is a failure."""


class Codec(Protocol):
    """How one API renders an answer; built per request with what its objects share (model, ids, clock)."""

    content_type: str
    """Of a streamed answer."""

    def opening(self) -> Sequence[Any]:
        """Objects streamed before the first text."""

    def delta(self, text: str) -> Any:
        """The object that streams a piece of answer text."""

    def thinking(self, text: str) -> Any:
        """The object that streams a piece of the model's thinking (never part of the answer text)."""

    def call_delta(self, call: ToolCall) -> Sequence[Any]:
        """The objects that stream one tool call (the codec counts them, for its closing)."""

    def closing(self, finished: Finished) -> Sequence[Any]:
        """Objects that end a complete streamed answer."""

    def whole(self, finished: Finished, calls: Sequence[ToolCall] = ()) -> Any:
        """The body of a complete, non-streamed answer (its text without the calls, and the calls)."""

    def failure(self, finished: Finished) -> ApiError:
        """What a stopped or failed generation reports."""

    def error_body(self, error: ApiError) -> Any:
        """An error as this format streams it."""

    async def send(self, response: web.StreamResponse, data: Any) -> None:
        """Write one streamed object."""


def chat_call(
    engine: Engine, messages: list[Any], settings: SamplingSettings, tools: Sequence[dict[str, Any]] = ()
) -> EngineCall:
    """The engine call for a conversation, its messages as the request parser gives them (the chat template applies)."""
    tokens = chat_tokens(messages, tools, settings.max_tokens)
    return EngineCall(lambda loop: engine.chat(messages, settings, None, loop, tools), tokens)


def completion_call(engine: Engine, prompt: str, settings: SamplingSettings) -> EngineCall:
    """The engine call for a raw prompt, continued as it is."""
    return EngineCall(lambda loop: engine.complete(prompt, settings, None, loop), text_tokens(prompt, settings.max_tokens))


def text_of(events: list[Event]) -> str:
    """The answer text a batch of events adds."""
    return "".join(event.text for event in events if isinstance(event, Token))


def thinking_of(events: list[Event]) -> str:
    """The thinking a batch of events adds."""
    return "".join(event.reasoning for event in events if isinstance(event, Token))


async def until_finished(generation: Generation) -> Finished:
    """The end of a generation whose events arrive on this loop (the tokens are skipped)."""
    async for event in generation:
        pass
    return event


async def answer(
    request: web.Request, codec: Codec, model: str, begin: EngineCall, stream: bool, reader: ToolCallReader | None = None
) -> web.StreamResponse:
    """Run `begin` when this request's turn comes and reply with its answer, streamed or whole."""
    queue = request.app[REQUEST_QUEUE]
    async with queue.generation(request.path, model, begin, begin.context_tokens) as generation:
        if stream:
            return await stream_answer(request, generation, codec, reader)
        finished = await until_finished(generation)
    if finished.finish_reason not in ANSWERED:
        raise codec.failure(finished)
    if reader is None:
        return json_response(codec.whole(finished))
    text, calls = reader.split(finished.text)
    return json_response(codec.whole(replace(finished, text=text), calls))


async def send_pieces(response: web.StreamResponse, codec: Codec, pieces: list[TextOrCall]) -> None:
    for piece in pieces:
        for item in [codec.delta(piece)] if isinstance(piece, str) else codec.call_delta(piece):
            await codec.send(response, item)


async def stream_answer(
    request: web.Request, generation: Generation, codec: Codec, reader: ToolCallReader | None = None
) -> web.StreamResponse:
    response = await open_stream(request, codec.content_type)
    for item in codec.opening():
        await codec.send(response, item)
    async for events in generation.batches():
        thought, text = thinking_of(events), text_of(events)
        if thought:
            await codec.send(response, codec.thinking(thought))
        await send_pieces(response, codec, reader.feed(text) if reader else [text] if text else [])
    finished = events[-1]
    answered = finished.finish_reason in ANSWERED
    if answered and reader is not None:
        await send_pieces(response, codec, reader.finish())
    for item in codec.closing(finished) if answered else [codec.error_body(codec.failure(finished))]:
        await codec.send(response, item)
    await response.write_eof()
    return response
