"""The Anthropic Messages endpoint, POST /v1/messages: the request parser (engine/server/anthropic_requests.py)
and the codec (engine/server/anthropic_codec.py) over the server core (engine/server/core.py). Its errors are
Anthropic-shaped (engine/server/guard.py picks the shape by path)."""

from __future__ import annotations

from aiohttp import web

from engine.server.anthropic_codec import AnthropicCodec
from engine.server.anthropic_requests import parse_messages
from engine.server.core import answer, chat_call
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.tool_requests import plan_tools
from engine.server.wire import read_json

PATH = "/v1/messages"


async def create_message(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_messages(await read_json(request))
    model = queue.model_id(parsed.model)
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    begin = chat_call(queue.engine, parsed.messages, plan.settings, plan.tools)
    return await answer(request, AnthropicCodec(model), model, begin, parsed.stream, plan.reader)


def add_routes(app: web.Application) -> None:
    app.router.add_post(PATH, create_message)
