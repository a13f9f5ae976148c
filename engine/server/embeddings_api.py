"""Embeddings: OpenAI's /v1/embeddings, Ollama's /api/embed and its older /api/embeddings.

The embedding model (a sentence encoder in the store, engine/embeddings/) runs on the engine's worker thread,
after whatever is already queued there, so it never interleaves with an answer being generated. It is kept
loaded beside the chat model (it is small) until another embedding model is named.
"""

from __future__ import annotations

import asyncio
import base64
import struct
import time
from pathlib import Path

from aiohttp import web

from engine.embeddings.model import EncoderSlot
from engine.errors import ModelError
from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.wire import json_response, read_json

ENCODER_SLOT = web.AppKey("encoder_slot", EncoderSlot)


def texts_of(fields: Fields, name: str) -> list[str]:
    """A string or a non-empty array of strings (token-id arrays are not accepted)."""
    texts = list(fields.strings(name))
    if not texts:
        raise ApiError.invalid(f"Missing required parameter: '{name}' (a string or an array of strings).", name,
                               "missing_required_parameter")
    return texts


async def embed(request: web.Request, requested: str, texts: list[str]) -> tuple[str, list[list[float]], int]:
    """(model id, one vector per text, tokens read) from the embedding model `requested` names."""
    queue = request.app[REQUEST_QUEUE]
    model, path = queue.models.find_encoder(requested)
    slot = request.app[ENCODER_SLOT]
    try:
        vectors, tokens = await asyncio.wrap_future(queue.engine.submit(lambda: slot.embed(Path(path), texts)))
    except ModelError as e:
        raise ApiError.cannot_load(model, str(e)) from None
    return model, vectors, tokens


def base64_floats(vector: list[float]) -> str:
    """OpenAI's `encoding_format: base64`: the little-endian float32 bytes, base64-encoded."""
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


async def openai_embeddings(request: web.Request) -> web.Response:
    fields = Fields(await read_json(request))
    encoding = fields.string("encoding_format", "float")
    if encoding not in ("float", "base64"):
        raise ApiError.invalid(f"Invalid 'encoding_format': expected 'float' or 'base64', got '{encoding}'.",
                               "encoding_format", "invalid_value")
    if fields.given("dimensions"):
        raise ApiError.unsupported("dimensions", "Shortening embeddings ('dimensions')")
    model, vectors, tokens = await embed(request, fields.string("model", required=True), texts_of(fields, "input"))
    data = [{"object": "embedding", "index": i, "embedding": base64_floats(v) if encoding == "base64" else v}
            for i, v in enumerate(vectors)]  # fmt: skip
    return json_response({"object": "list", "data": data, "model": model,
                          "usage": {"prompt_tokens": tokens, "total_tokens": tokens}})  # fmt: skip


async def ollama_embed(request: web.Request) -> web.Response:
    start = time.perf_counter_ns()
    fields = Fields(await read_json(request))
    model, vectors, tokens = await embed(request, fields.string("model", required=True), texts_of(fields, "input"))
    return json_response({"model": model, "embeddings": vectors, "total_duration": time.perf_counter_ns() - start,
                          "load_duration": 0, "prompt_eval_count": tokens})  # fmt: skip


async def ollama_embeddings(request: web.Request) -> web.Response:
    """The older single-prompt endpoint."""
    fields = Fields(await read_json(request))
    prompt = fields.string("prompt", required=True)
    _model, vectors, _tokens = await embed(request, fields.string("model", required=True), [prompt])
    return json_response({"embedding": vectors[0]})


async def release_encoder(app: web.Application) -> None:
    """Free the embedding model on the worker (a no-op when the engine has already shut down)."""
    app[REQUEST_QUEUE].engine.submit(app[ENCODER_SLOT].release)


def add_routes(app: web.Application) -> None:
    app[ENCODER_SLOT] = EncoderSlot()
    app.on_cleanup.append(release_encoder)
    app.router.add_post("/v1/embeddings", openai_embeddings)
    app.router.add_post("/api/embed", ollama_embed)
    app.router.add_post("/api/embeddings", ollama_embeddings)
