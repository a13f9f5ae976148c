"""OpenAI-compatible endpoints: /v1/models, /v1/chat/completions and /v1/completions.

Chat and text completions differ only in the shape of a choice, so one streaming loop and one
non-streaming answer serve both, each given its `Shape`.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from engine.generation import Finished, Generation, Stats
from engine.models.folder import ModelInfo
from engine.server.backend import BACKEND, Begin, text_of, until_finished
from engine.server.errors import ApiError
from engine.server.openai_requests import GenerationRequest, parse_chat, parse_completion
from engine.server.wire import json_response, open_stream, read_json, send_event


class ChatShape:
    object = "chat.completion"
    chunk_object = "chat.completion.chunk"
    id_prefix = "chatcmpl"

    def opening(self) -> dict | None:
        return {"index": 0, "delta": {"role": "assistant", "content": ""}, "logprobs": None, "finish_reason": None}

    def delta(self, text: str) -> dict:
        return {"index": 0, "delta": {"content": text}, "logprobs": None, "finish_reason": None}

    def closing(self, reason: str) -> dict:
        return {"index": 0, "delta": {}, "logprobs": None, "finish_reason": reason}

    def whole(self, text: str, reason: str) -> dict:
        message = {"role": "assistant", "content": text, "refusal": None}
        return {"index": 0, "message": message, "logprobs": None, "finish_reason": reason}


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

    def whole(self, text: str, reason: str) -> dict:
        return {"index": 0, "text": self.echo + text, "logprobs": None, "finish_reason": reason}


Shape = ChatShape | CompletionShape


def usage(stats: Stats) -> dict[str, Any]:
    return {
        "prompt_tokens": stats.prompt_tokens,
        "completion_tokens": stats.generated_tokens,
        "total_tokens": stats.prompt_tokens + stats.generated_tokens,
        "prompt_tokens_details": {"cached_tokens": stats.cached_tokens},
    }


def failure(finished: Finished) -> ApiError:
    if finished.finish_reason == "cancelled":
        return ApiError(503, "The answer was stopped before it finished (the server is stopping).", "server_error",
                        None, "generation_stopped")
    return ApiError(500, f"Generation failed: {finished.error}", "server_error", None, "generation_failed")


class Envelope:
    """The fields every response object and chunk of one request shares."""

    def __init__(self, shape: Shape, model: str, include_usage: bool) -> None:
        self.shape, self.model, self.include_usage = shape, model, include_usage
        self.id = f"{shape.id_prefix}-{uuid.uuid4().hex[:24]}"
        self.created = int(time.time())

    def _head(self, kind: str) -> dict:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model}

    def chunk(self, choice: dict) -> dict:
        extra = {"usage": None} if self.include_usage else {}
        return {**self._head(self.shape.chunk_object), "choices": [choice], **extra}

    def usage_chunk(self, stats: Stats) -> dict:
        return {**self._head(self.shape.chunk_object), "choices": [], "usage": usage(stats)}

    def whole(self, finished: Finished) -> dict:
        choice = self.shape.whole(finished.text, finished.finish_reason)
        return {**self._head(self.shape.object), "choices": [choice], "usage": usage(finished.stats)}


async def stream(request: web.Request, generation: Generation, envelope: Envelope) -> web.StreamResponse:
    response = await open_stream(request, "text/event-stream")
    opening = envelope.shape.opening()
    if opening is not None:
        await send_event(response, envelope.chunk(opening))
    async for events in generation.batches():
        text = text_of(events)
        if text:
            await send_event(response, envelope.chunk(envelope.shape.delta(text)))
    finished = events[-1]
    if finished.finish_reason in ("stop", "length"):
        await send_event(response, envelope.chunk(envelope.shape.closing(finished.finish_reason)))
        if envelope.include_usage:
            await send_event(response, envelope.usage_chunk(finished.stats))
        await send_event(response, "[DONE]")
    else:
        await send_event(response, failure(finished).openai_body())
    await response.write_eof()
    return response


async def answer(request: web.Request, parsed: GenerationRequest, shape: Shape, begin: Begin) -> web.StreamResponse:
    backend = request.app[BACKEND]
    model = backend.model_id(parsed.model)
    envelope = Envelope(shape, model, parsed.include_usage)
    async with backend.generation(request.path, model, begin) as generation:
        if parsed.stream:
            return await stream(request, generation, envelope)
        finished = await until_finished(generation)
    if finished.finish_reason not in ("stop", "length"):
        raise failure(finished)
    return json_response(envelope.whole(finished))


async def chat_completions(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    parsed = parse_chat(await read_json(request), backend.default_max_tokens)
    begin = lambda loop: backend.engine.chat(parsed.messages, parsed.settings, None, loop)  # noqa: E731
    return await answer(request, parsed, ChatShape(), begin)


async def completions(request: web.Request) -> web.StreamResponse:
    parsed = parse_completion(await read_json(request))
    engine = request.app[BACKEND].engine
    begin = lambda loop: engine.complete(parsed.prompt, parsed.settings, None, loop)  # noqa: E731
    return await answer(request, parsed, CompletionShape(parsed.prompt if parsed.echo else ""), begin)


def model_card(info: ModelInfo) -> dict[str, Any]:
    return {"id": info.name, "object": "model", "created": int(info.path.stat().st_mtime), "owned_by": "cabin"}


async def list_models(request: web.Request) -> web.Response:
    info = request.app[BACKEND].engine.model_info
    return json_response({"object": "list", "data": [model_card(info)] if info else []})


async def get_model(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    backend.model_id(request.match_info["model"])
    return json_response(model_card(backend.loaded_model()))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model:.+}", get_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
