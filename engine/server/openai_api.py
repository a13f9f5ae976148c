"""OpenAI-compatible endpoints: /v1/models, /v1/chat/completions and /v1/completions.

Each completion handler parses its request, picks the engine call and the codec, and leaves the rest
to the server core (engine/server/core.py).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp import web

from engine.server.core import answer, chat_call, completion_call
from engine.server.image_requests import refuse_images_for_text_model
from engine.server.openai_codec import ChatShape, CompletionShape, OpenAICodec
from engine.server.openai_requests import parse_chat, parse_completion
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.tool_requests import plan_tools
from engine.server.wire import json_response, read_json


async def chat_completions(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_chat(await read_json(request), queue.default_max_tokens)
    model = queue.model_id(parsed.model)
    await refuse_images_for_text_model(queue, model, parsed.messages, "messages")
    if parsed.tools:
        await queue.load(model)  # the tools are rendered in the named model's own format
    codec = OpenAICodec(ChatShape(), model, parsed.include_usage)
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    begin = chat_call(queue.engine, parsed.messages, plan.settings, plan.tools)
    return await answer(request, codec, model, begin, parsed.stream, plan.reader)


async def completions(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_completion(await read_json(request))
    model = queue.model_id(parsed.model)
    codec = OpenAICodec(CompletionShape(parsed.prompt if parsed.echo else ""), model, parsed.include_usage)
    begin = completion_call(queue.engine, parsed.prompt, parsed.settings)
    return await answer(request, codec, model, begin, parsed.stream)


def model_card(name: str, path: Path) -> dict[str, Any]:
    return {"id": name, "object": "model", "created": int(path.stat().st_mtime), "owned_by": "cabin"}


async def list_models(request: web.Request) -> web.Response:
    """Every model a request may name: the loaded one first, then the store's."""
    models = request.app[REQUEST_QUEUE].models
    encoders = [model_card(name, path) for name, _key, path in models.encoders()]
    return json_response({"object": "list", "data": [model_card(info.name, info.path) for info in models.servable()]
                          + encoders})


async def get_model(request: web.Request) -> web.Response:
    info = request.app[REQUEST_QUEUE].models.find(request.match_info["model"])
    return json_response(model_card(info.name, info.path))


def add_routes(app: web.Application) -> None:
    app.router.add_get("/v1/models", list_models)
    app.router.add_get("/v1/models/{model:.+}", get_model)
    app.router.add_post("/v1/chat/completions", chat_completions)
    app.router.add_post("/v1/completions", completions)
