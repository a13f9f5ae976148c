"""Bytes on the wire: JSON bodies in, JSON / server-sent events / NDJSON out."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from aiohttp import web

from engine.server.errors import ApiError


async def read_json(request: web.Request) -> Any:
    """The request's JSON body (the size limit is aiohttp's client_max_size, answered with 413)."""
    raw = await request.read()
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ApiError.invalid(f"We could not parse the JSON body of your request ({e}).", None, "invalid_json") from None


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


async def open_stream(request: web.Request, content_type: str) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": content_type, "Cache-Control": "no-cache"})
    await response.prepare(request)
    return response


async def send_event(response: web.StreamResponse, data: Any) -> None:
    """One server-sent event; `data` is JSON-encoded unless it is already a string (`[DONE]`)."""
    payload = data if isinstance(data, str) else dumps(data)
    await response.write(f"data: {payload}\n\n".encode())


async def send_typed_event(response: web.StreamResponse, data: dict[str, Any]) -> None:
    """One server-sent event named by its `type` (the Responses and Anthropic streams: `event:` then `data:`)."""
    await response.write(f"event: {data['type']}\ndata: {dumps(data)}\n\n".encode())


async def send_line(response: web.StreamResponse, data: Any) -> None:
    """One NDJSON line (Ollama's streaming format)."""
    await response.write(f"{dumps(data)}\n".encode())


def json_response(data: Any, status: int = 200) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps)


def iso_now() -> str:
    """Ollama's `created_at`: RFC 3339 in UTC."""
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")
