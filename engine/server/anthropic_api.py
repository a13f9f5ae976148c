"""The Anthropic Messages endpoints: POST /v1/messages, the request parser (engine/server/anthropic_requests.py)
and the codec (engine/server/anthropic_codec.py) over the server core (engine/server/core.py); and
POST /v1/messages/count_tokens, the prompt such a request would make, counted with the model's own tokenizer.
Errors are Anthropic-shaped (engine/server/guard.py picks the shape by path)."""

from __future__ import annotations

import asyncio

from aiohttp import web

from engine.generation.counting import text_tokens
from engine.generation.turn import render_prompt
from engine.server.anthropic_codec import AnthropicCodec
from engine.server.anthropic_requests import parse_count_tokens, parse_messages
from engine.server.core import answer, chat_call
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.tool_requests import plan_tools
from engine.server.wire import json_response, read_json

PATH = "/v1/messages"


async def create_message(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_messages(await read_json(request))
    model = queue.model_id(parsed.model)
    if parsed.tools:
        await queue.load(model)  # the tools are rendered in the named model's own format
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    begin = chat_call(queue.engine, parsed.messages, plan.settings, plan.tools)
    return await answer(request, AnthropicCodec(model), model, begin, parsed.stream, plan.reader)


async def count_tokens(request: web.Request) -> web.Response:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_count_tokens(await read_json(request))
    model = queue.model_id(parsed.model)
    await queue.load(model)  # counted with the named model's tokenizer and template
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    settings = plan.settings
    counted = queue.engine.run_with_backend(lambda backend: text_tokens(backend, render_prompt(
        backend.tokenizer, parsed.messages, settings.thinking, plan.tools, settings.reasoning_effort)))
    return json_response({"input_tokens": await asyncio.wrap_future(counted)})


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, create_message)
    app.router.add_post(f"{PATH}/count_tokens", count_tokens)
