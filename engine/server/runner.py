"""Start and stop the API server on the running asyncio loop (asyncio.run for `cabin serve`, qasync in the app)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from aiohttp import web

from engine.errors import CabinError
from engine.generation import Engine
from engine.server import anthropic_api, embeddings_api, guard, ollama_api, openai_api, responses_api
from engine.server.request_queue import REQUEST_QUEUE, RequestQueue, Served

DEFAULT_PORT = 11434

@dataclass(frozen=True)
class ServerConfig:
    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    """0 picks a free port."""
    api_key: str | None = None
    """When set, every request but `/` needs `Authorization: Bearer <api_key>`."""
    max_body_bytes: int = 8 * 2**20
    max_queue: int = 64
    """Requests waiting or running at once; more are refused with 503 (clients retry)."""
    max_tokens: int = 4096
    """Longest answer when a chat request sets no limit."""
    allowed_origins: tuple[str, ...] = ()
    """Web page origins (besides this machine's) allowed to call the server from a browser; "*" for any."""
    swap_models: bool = True
    """Load whichever model a request names in place of the loaded one; off, other models are refused (the app)."""
    keep_alive: float | None = 300
    """Seconds a model stays loaded after its last request unless the request says (Ollama's default); None: forever."""
    kv_budget: int | None = None
    """Bytes of KV cache the requests running together may reserve; None: what the memory budget leaves beside the
    weights. Past it, a request is refused with 503 (engine/server/batch_turns.py)."""

def build_app(engine: Engine, config: ServerConfig) -> web.Application:
    middlewares = [guard.errors, guard.access(guard.is_loopback(config.host), config.allowed_origins)]
    if config.api_key:
        middlewares.append(guard.api_key_check(config.api_key))
    app = web.Application(middlewares=middlewares, client_max_size=config.max_body_bytes)
    app[REQUEST_QUEUE] = RequestQueue(
        engine, config.max_queue, config.max_tokens, config.swap_models, config.keep_alive, config.kv_budget
    )
    app.on_response_prepare.append(guard.allow_origin)
    openai_api.add_routes(app)
    ollama_api.add_routes(app)
    responses_api.add_routes(app)
    anthropic_api.add_routes(app)
    embeddings_api.add_routes(app)
    return app

class ServerHandle:
    """A running server: its address, what it has served, and `await close()`."""

    def __init__(self, runner: web.AppRunner, queue: RequestQueue, host: str, port: int) -> None:
        self._runner, self._queue = runner, queue
        self.host, self.port = host, port

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else ("localhost" if self.host == "::" else self.host)
        return f"http://{f'[{host}]' if ':' in host else host}:{self.port}"

    @property
    def activity(self) -> deque[Served]:
        """The most recent finished generations, oldest first."""
        return self._queue.activity

    @property
    def queued(self) -> int:
        """Requests generating or waiting for the engine now."""
        return self._queue.queued

    def on_served(self, listener: Callable[[Served], None]) -> None:
        """Call `listener` (on the loop) each time a generation finishes."""
        self._queue.listeners.append(listener)

    async def close(self) -> None:
        """Stop answers in flight (their clients get an error event), then close every connection."""
        await self._queue.stop_all()
        await self._runner.cleanup()

async def start_server(engine: Engine, config: ServerConfig = ServerConfig()) -> ServerHandle:
    """Serve `engine`'s loaded model on the running loop until `await handle.close()`."""
    app = build_app(engine, config)
    # handler_cancellation: a client that disconnects cancels its handler, which stops its generation.
    runner = web.AppRunner(app, handler_cancellation=True, access_log=None, shutdown_timeout=5)
    await runner.setup()
    site = web.TCPSite(runner, config.host, config.port)
    try:
        await site.start()
    except OSError as e:
        await runner.cleanup()
        raise CabinError(f"cannot listen on {config.host}:{config.port}: {e.strerror or e}") from None
    port = runner.addresses[0][1]
    return ServerHandle(runner, app[REQUEST_QUEUE], config.host, port)
