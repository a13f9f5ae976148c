"""Ollama-compatible endpoints: /, /api/version, /api/tags, /api/ps, /api/show, /api/chat and /api/generate.

The generating handlers parse their request, pick the engine call and the codec (engine/server/ollama_codec.py),
and leave the rest to the server core (engine/server/core.py).
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aiohttp import web

from engine import __version__
from engine.models.folder import ModelInfo
from engine.models.store import folder_size
from engine.server.core import answer, chat_call, completion_call
from engine.server.fields import Fields
from engine.server.image_requests import refuse_images_for_text_model
from engine.server.ollama_codec import OllamaCodec, chat_piece, generate_piece
from engine.server.ollama_requests import parse_chat, parse_generate
from engine.server.keep_alive import keep_alive_seconds
from engine.server.request_queue import REQUEST_QUEUE, RequestQueue
from engine.server.tool_requests import plan_tools
from engine.server.wire import iso_now, json_response, read_json

def keep_alive(request_body: Any, queue: RequestQueue, model: str) -> None:
    """Record the request's `keep_alive` for its model, when it has one."""
    if isinstance(request_body, dict) and "keep_alive" in request_body:
        queue.set_keep_alive(model, keep_alive_seconds(request_body["keep_alive"]))


async def chat(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    body = await read_json(request)
    parsed = parse_chat(body, queue.default_max_tokens)
    model = queue.model_id(parsed.model)
    keep_alive(body, queue, model)
    await refuse_images_for_text_model(queue, model, parsed.messages, "messages")
    if parsed.tools:
        await queue.load(model)  # the tools are rendered in the named model's own format
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    begin = chat_call(queue.engine, parsed.messages, plan.settings, plan.tools)
    return await answer(request, OllamaCodec(model, chat_piece), model, begin, parsed.stream, plan.reader)


async def generate(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    body = await read_json(request)
    parsed = parse_generate(body, queue.default_max_tokens)
    model = queue.model_id(parsed.model)
    keep_alive(body, queue, model)
    if parsed.raw_prompt is None and not parsed.messages[-1].text:
        # Ollama's way to load a model (or, with keep_alive 0, to unload it) without generating.
        unloading = isinstance(body, dict) and body.get("keep_alive") is not None and keep_alive_seconds(body["keep_alive"]) == 0
        await (queue.unload(model) if unloading else queue.load(model))
        return json_response({"model": model, "created_at": iso_now(), "response": "", "done": True,
                              "done_reason": "unload" if unloading else "load"})
    await refuse_images_for_text_model(queue, model, parsed.messages, "images")
    if parsed.raw_prompt is not None:
        begin = completion_call(queue.engine, parsed.raw_prompt, parsed.settings)
    else:
        begin = chat_call(queue.engine, parsed.messages, parsed.settings)
    return await answer(request, OllamaCodec(model, generate_piece), model, begin, parsed.stream)


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


def encoder_entry(name: str, path: Path) -> dict[str, Any]:
    """An embedding model (engine/embeddings/), described from its folder."""
    info = ModelInfo(name, path, "bert", None, folder_size(path), None)
    return model_entry(info)


async def tags(request: web.Request) -> web.Response:
    """Every model a request may name: the loaded one first, then the store's chat and embedding models."""
    models = request.app[REQUEST_QUEUE].models
    entries = [model_entry(info) for info in models.servable()]
    return json_response({"models": entries + [encoder_entry(name, path) for name, _key, path in models.encoders()]})


def expiry(expires_at: float | None) -> str:
    if expires_at is None:
        return "9999-12-31T23:59:59Z"
    return datetime.fromtimestamp(expires_at, timezone.utc).isoformat().replace("+00:00", "Z")


async def running(request: web.Request) -> web.Response:
    """The model loaded now, and when it will be unloaded."""
    queue = request.app[REQUEST_QUEUE]
    info = queue.models.loaded()
    if info is None:
        return json_response({"models": []})
    entry = {**model_entry(info), "size_vram": info.weight_bytes, "expires_at": expiry(queue.expires_at)}
    entry.pop("modified_at")
    return json_response({"models": [entry]})


async def show(request: web.Request) -> web.Response:
    queue = request.app[REQUEST_QUEUE]
    fields = Fields(await read_json(request))
    info = queue.models.find(fields.string("model") or fields.string("name", required=True))
    tools = queue.models.is_loaded(info) and queue.engine.tool_format is not None
    capabilities = ["completion"] + (["tools"] if tools else []) + (["vision"] if info.vision else [])
    entry = model_entry(info)
    context = {f"{info.model_type}.context_length": info.context_length} if info.context_length else {}
    return json_response({"modelfile": "", "parameters": "", "template": "", "details": entry["details"],
                          "model_info": {"general.architecture": info.model_type, **context},
                          "capabilities": capabilities,
                          "modified_at": entry["modified_at"]})


async def version(_request: web.Request) -> web.Response:
    return json_response({"version": __version__})


async def root(_request: web.Request) -> web.Response:
    return web.Response(text="Cabin is running (OpenAI and Anthropic APIs at /v1, Ollama API at /api)")


def add_routes(app: web.Application) -> None:
    app.router.add_get("/", root)
    app.router.add_get("/api/version", version)
    app.router.add_get("/api/tags", tags)
    app.router.add_get("/api/ps", running)
    app.router.add_post("/api/show", show)
    app.router.add_post("/api/chat", chat)
    app.router.add_post("/api/generate", generate)
