"""The API's request queue, shared by every endpoint: the engine, the model's names, turns and the activity log.

Generations run on the engine's one worker thread. API requests wait here, in arrival order, and go to
the engine one at a time: so a message typed in the app while API clients have a queue of requests
waits for one API answer at most, not for the whole queue. Each generation is tied to its HTTP request
(a client that goes away stops it, or never starts it) and recorded when it finishes.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from engine.generation import Engine, Finished, Generation
from engine.models.folder import ModelInfo
from engine.server.errors import ApiError

Begin = Callable[[asyncio.AbstractEventLoop], Generation]
"""Starts a generation whose events arrive on the given loop."""


@dataclass(frozen=True)
class Served:
    """One finished API generation, as the log and the app show it."""

    endpoint: str
    model: str
    finished: Finished
    at: float = field(default_factory=time.time)


class RequestQueue:
    """API requests waiting for (or holding) their turn on the engine, and what they served."""

    def __init__(self, engine: Engine, max_queue: int, default_max_tokens: int) -> None:
        self.engine = engine
        self.max_queue = max_queue
        self.default_max_tokens = default_max_tokens
        self.activity: deque[Served] = deque(maxlen=200)
        self.listeners: list[Callable[[Served], None]] = []
        self._running: dict[Generation, asyncio.Future[Finished]] = {}
        self._waiting = 0
        self._turn = asyncio.Semaphore(1)
        """Held from an API generation's start to its end."""
        self._closing = False

    def loaded_model(self) -> ModelInfo:
        info = self.engine.model_info
        if info is None:
            raise ApiError.no_model()
        return info

    def model_id(self, requested: str) -> str:
        """The loaded model's id, when `requested` names it (its id, folder path or name; Ollama's ':latest' too)."""
        info = self.loaded_model()
        names = {info.name, str(info.path), info.path.name}
        if requested.removesuffix(":latest") not in names:
            raise ApiError.unknown_model(requested)
        return info.name

    @property
    def queued(self) -> int:
        """API requests generating or waiting for their turn."""
        return len(self._running) + self._waiting

    async def _wait_for_turn(self) -> None:
        if self.queued >= self.max_queue:
            raise ApiError(503, f"The server is busy: {self.queued} requests are already queued. Retry shortly.",
                           "server_error", None, "server_busy")
        self._waiting += 1
        try:
            await self._turn.acquire()
        finally:
            self._waiting -= 1
        if self._closing:
            self._turn.release()
            raise ApiError(503, "The server is stopping.", "server_error", None, "server_stopping")

    @asynccontextmanager
    async def generation(self, endpoint: str, model: str, begin: Begin) -> AsyncIterator[Generation]:
        """Start a generation for one request when its turn comes; whatever happens to the request, it is stopped."""
        await self._wait_for_turn()
        try:
            generation = begin(asyncio.get_running_loop())
        except BaseException:
            self._turn.release()
            raise
        finished = asyncio.wrap_future(generation.finished)
        self._running[generation] = finished
        finished.add_done_callback(lambda done: self._record(endpoint, model, generation, done.result()))
        try:
            yield generation
        finally:
            generation.stop()

    def _record(self, endpoint: str, model: str, generation: Generation, finished: Finished) -> None:
        self._running.pop(generation, None)
        self._turn.release()
        served = Served(endpoint, model, finished)
        self.activity.append(served)
        for listener in self.listeners:
            listener(served)

    async def stop_all(self, timeout: float = 30) -> None:
        """Stop every generation in flight and wait (up to `timeout` s) for the worker to let go of them."""
        self._closing = True
        for generation in list(self._running):
            generation.stop()
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=timeout)


REQUEST_QUEUE = web.AppKey("request_queue", RequestQueue)
