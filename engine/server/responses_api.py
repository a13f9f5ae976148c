"""The OpenAI Responses API endpoint, POST /v1/responses: the request parser (engine/server/responses_requests.py)
and the codec (engine/server/responses_codec.py) over the server core (engine/server/core.py)."""

from __future__ import annotations

from aiohttp import web

from engine.server.core import answer, chat_call
from engine.server.request_queue import REQUEST_QUEUE
from engine.server.responses_codec import ResponsesCodec
from engine.server.responses_requests import parse_responses
from engine.server.tool_requests import plan_tools
from engine.server.wire import read_json


async def create_response(request: web.Request) -> web.StreamResponse:
    queue = request.app[REQUEST_QUEUE]
    parsed = parse_responses(await read_json(request), queue.default_max_tokens)
    model = queue.model_id(parsed.model)
    if parsed.tools:
        await queue.load(model)  # the tools are rendered in the named model's own format
    plan = plan_tools(parsed.tools, queue.engine.tool_format, parsed.settings, model)
    begin = chat_call(queue.engine, parsed.messages, plan.settings, plan.tools)
    return await answer(request, ResponsesCodec(model, parsed.echo), model, begin, parsed.stream, plan.reader)


def add_routes(app: web.Application) -> None:
    app.router.add_post("/v1/responses", create_response)
