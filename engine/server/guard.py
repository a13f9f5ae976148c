"""Safety around every request: error bodies, the API key, and who may call a server bound to this machine.

A server on 127.0.0.1 is still reachable from web pages the user visits: a page can post to it, and a
DNS-rebinding page can even read the answers. So, as Ollama does, requests that name another host
(`Host`) are refused while bound to loopback, and browsers may call only from loopback pages or origins
the user allowed (CORS).
"""

from __future__ import annotations

import asyncio
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web

from engine.server import anthropic_codec, ollama_codec, openai_codec
from engine.server.errors import ApiError
from engine.server.wire import json_response

log = logging.getLogger("cabin.server")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
CORS_HEADERS = {
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, x-api-key, anthropic-version",
    "Access-Control-Max-Age": "600",
}


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return host.lower() == "localhost" or host.lower().endswith(".localhost")


def hostname(value: str) -> str | None:
    """The host part of a `Host` header or an `Origin` ("http://127.0.0.1:8080" -> "127.0.0.1")."""
    return urlsplit(value if "//" in value else f"//{value}").hostname


ERROR_SHAPES = (("/api/", ollama_codec.error_body), ("/v1/messages", anthropic_codec.error_body))
"""Routes whose errors are not OpenAI-shaped, by path prefix."""


def error_response(request: web.Request, error: ApiError) -> web.Response:
    shapes = [shape for prefix, shape in ERROR_SHAPES if request.path.startswith(prefix)]
    body = (shapes or [openai_codec.error_body])[0](error)
    response = json_response(body, error.status)
    if error.status == 503:
        response.headers["Retry-After"] = "1"
    return response


def http_error(request: web.Request, error: web.HTTPException) -> ApiError:
    messages = {
        404: f"Unknown endpoint: {request.method} {request.path}",
        405: f"{request.method} is not allowed on {request.path}",
    }
    return ApiError(error.status, messages.get(error.status, error.text or error.reason), "invalid_request_error")


@web.middleware
async def errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every refusal becomes a JSON error body: OpenAI's shape, Ollama's on /api/ routes, Anthropic's on /v1/messages."""
    try:
        return await handler(request)
    except ApiError as e:
        return error_response(request, e)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return error_response(request, http_error(request, e))
    except (asyncio.CancelledError, ConnectionError):
        raise
    except Exception:  # noqa: BLE001 — a bug must not take the server down; it is logged with its traceback
        log.exception("error while answering %s %s", request.method, request.path)
        return error_response(request, ApiError(500, "Internal server error.", "server_error"))


def access(bound_to_loopback: bool, allowed_origins: tuple[str, ...]) -> web.Middleware:
    def origin_allowed(origin: str) -> bool:
        return is_loopback(hostname(origin)) or origin in allowed_origins or "*" in allowed_origins

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        host = request.headers.get("Host")
        if bound_to_loopback and host and not is_loopback(hostname(host)):
            raise ApiError(403, f"This server answers only requests addressed to this machine, not to {host}.",
                           "permission_error", None, "host_not_allowed")
        origin = request.headers.get("Origin")
        if origin and not origin_allowed(origin):
            raise ApiError(403, f"Web pages at {origin} may not use this server (allow them with --allow-origin).",
                           "permission_error", None, "origin_not_allowed")
        if origin and request.method == "OPTIONS":
            return web.Response(status=204, headers=CORS_HEADERS)
        return await handler(request)

    return check


def api_key_check(api_key: str) -> web.Middleware:
    expected = f"Bearer {api_key}".encode()

    @web.middleware
    async def check(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not given and request.headers.get("x-api-key"):  # how Anthropic's clients send the key
            given = f"Bearer {request.headers['x-api-key']}".encode()
        if request.path != "/" and not hmac.compare_digest(given, expected):
            message = "Incorrect API key provided." if given else "Missing API key: send 'Authorization: Bearer <key>'."
            raise ApiError(401, message, "invalid_request_error", None, "invalid_api_key")
        return await handler(request)

    return check


async def allow_origin(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: let the (already checked) calling page read the answer."""
    origin = request.headers.get("Origin")
    if origin:
        response.headers["Access-Control-Allow-Origin"] = origin
        response.headers["Vary"] = "Origin"
