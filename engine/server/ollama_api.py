"""Ollama-compatible endpoints: /, /api/version, /api/tags, /api/ps, /api/show, /api/chat and /api/generate.

Streaming is NDJSON; the last object has `done: true` and Ollama's counters (durations in nanoseconds).
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from engine import __version__
from engine.generation import Finished, Generation
from engine.models.folder import ModelInfo
from engine.server.backend import BACKEND, Begin, text_of, until_finished
from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.server.ollama_requests import OllamaRequest, parse_chat, parse_generate
from engine.server.wire import iso_now, json_response, open_stream, read_json, send_line

Piece = Callable[[str], dict[str, Any]]
"""How a piece of answer text sits in a response object (`message` for chat, `response` for generate)."""


def chat_piece(text: str) -> dict[str, Any]:
    return {"message": {"role": "assistant", "content": text}}


def generate_piece(text: str) -> dict[str, Any]:
    return {"response": text}


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


def failure(finished: Finished) -> ApiError:
    if finished.finish_reason == "cancelled":
        return ApiError(503, "the answer was stopped before it finished (the server is stopping)", "server_error")
    return ApiError(500, f"generation failed: {finished.error}", "server_error")


async def stream(request: web.Request, generation: Generation, model: str, piece: Piece, started: float) -> web.StreamResponse:
    response = await open_stream(request, "application/x-ndjson")
    async for events in generation.batches():
        text = text_of(events)
        if text:
            await send_line(response, {"model": model, "created_at": iso_now(), **piece(text), "done": False})
    finished = events[-1]
    if finished.finish_reason in ("stop", "length"):
        await send_line(response, {"model": model, "created_at": iso_now(), **piece(""), **done_fields(finished, started)})
    else:
        await send_line(response, failure(finished).ollama_body())
    await response.write_eof()
    return response


async def answer(request: web.Request, parsed: OllamaRequest, piece: Piece, begin: Begin) -> web.StreamResponse:
    started = time.perf_counter()
    backend = request.app[BACKEND]
    model = backend.model_id(parsed.model)
    async with backend.generation(request.path, model, begin) as generation:
        if parsed.stream:
            return await stream(request, generation, model, piece, started)
        finished = await until_finished(generation)
    if finished.finish_reason not in ("stop", "length"):
        raise failure(finished)
    return json_response({"model": model, "created_at": iso_now(), **piece(finished.text), **done_fields(finished, started)})


async def chat(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    parsed = parse_chat(await read_json(request), backend.default_max_tokens)
    begin = lambda loop: backend.engine.chat(parsed.messages, parsed.settings, None, loop)  # noqa: E731
    return await answer(request, parsed, chat_piece, begin)


async def generate(request: web.Request) -> web.StreamResponse:
    backend = request.app[BACKEND]
    parsed = parse_generate(await read_json(request), backend.default_max_tokens)
    if parsed.raw_prompt is None and not parsed.messages[-1].text:
        # Ollama's way to ask for the model to be loaded: it is, so say so without generating.
        model = backend.model_id(parsed.model)
        return json_response({"model": model, "created_at": iso_now(), "response": "", "done": True, "done_reason": "load"})
    if parsed.raw_prompt is not None:
        begin = lambda loop: backend.engine.complete(parsed.raw_prompt, parsed.settings, None, loop)  # noqa: E731
    else:
        begin = lambda loop: backend.engine.chat(parsed.messages, parsed.settings, None, loop)  # noqa: E731
    return await answer(request, parsed, generate_piece, begin)


def model_entry(info: ModelInfo) -> dict[str, Any]:
    modified = datetime.fromtimestamp(info.path.stat().st_mtime, timezone.utc).isoformat().replace("+00:00", "Z")
    return {
        "name": info.name,
        "model": info.name,
        "modified_at": modified,
        "size": info.weight_bytes,
        "digest": hashlib.sha256(str(info.path.resolve()).encode()).hexdigest(),
        "details": {
            "parent_model": "",
            "format": "safetensors",
            "family": info.model_type,
            "families": [info.model_type],
            "parameter_size": "",
            "quantization_level": f"{info.bits}-bit" if info.bits else "none",
        },
    }


async def tags(request: web.Request) -> web.Response:
    info = request.app[BACKEND].engine.model_info
    return json_response({"models": [model_entry(info)] if info else []})


async def running(request: web.Request) -> web.Response:
    info = request.app[BACKEND].engine.model_info
    if info is None:
        return json_response({"models": []})
    entry = {**model_entry(info), "size_vram": info.weight_bytes, "expires_at": "9999-12-31T23:59:59Z"}
    entry.pop("modified_at")
    return json_response({"models": [entry]})


async def show(request: web.Request) -> web.Response:
    backend = request.app[BACKEND]
    fields = Fields(await read_json(request))
    backend.model_id(fields.string("model") or fields.string("name", required=True))
    info = backend.loaded_model()
    entry = model_entry(info)
    context = {f"{info.model_type}.context_length": info.context_length} if info.context_length else {}
    return json_response({"modelfile": "", "parameters": "", "template": "", "details": entry["details"],
                          "model_info": {"general.architecture": info.model_type, **context},
                          "capabilities": ["completion"], "modified_at": entry["modified_at"]})


async def version(_request: web.Request) -> web.Response:
    return json_response({"version": __version__})


async def root(_request: web.Request) -> web.Response:
    return web.Response(text="Cabin is running (OpenAI API at /v1, Ollama API at /api)")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tags", tags)
    app.router.add_get("/api/ps", running)
    app.router.add_post("/api/show", show)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/generate", generate)
