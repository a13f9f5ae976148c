"""The API's request queue, shared by every endpoint: the engine, the model's names, turns and the activity log.

Generations run on the engine's one worker thread. API requests wait here, in arrival order. When the model
batches (MLX, engine/generation/batch_run.py) up to DECODE_BATCH of them run together, each reserving the KV
cache of its context first (engine/server/batch_turns.py: a 503 when the memory budget is full); a message typed
in the app joins the running batch. Otherwise they go to the engine one at a time: so a message typed in the app
while API clients have a queue of requests waits for one API answer at most, not for the whole queue. Each
generation is tied to its HTTP request (a client that goes away stops it, or never starts it) and recorded when
it finishes.

A request may name any model the registry knows (engine/server/models_registry.py): when its turn comes, that
model is loaded in place of the one before, so requests for different models queue and never interleave. With
`swap_models` off (the app's server) a request for a model other than the window's is refused instead, so the
window's model is never swapped under the user. After the last request, the model stays loaded for its
keep-alive (Ollama's `keep_alive`, else the server's default; None: forever), then is unloaded.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from aiohttp import web

from engine.errors import ModelError
from engine.generation import Engine, Finished, Generation
from engine.generation.batch_policy import DECODE_BATCH
from engine.server.batch_turns import KVReservations, Turns
from engine.server.errors import ApiError
from engine.server.models_registry import ModelRegistry

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

    def __init__(
        self,
        engine: Engine,
        max_queue: int,
        default_max_tokens: int,
        swap_models: bool = True,
        keep_alive: float | None = None,
        kv_budget: int | None = None,
    ) -> None:
        self.engine = engine
        self.models = ModelRegistry(engine, swap_models)
        self.swap_models = swap_models
        self.keep_alive = keep_alive
        """Seconds a model stays loaded after its last request, unless the request said (None: forever)."""
        self._keep_alive: dict[str, float | None] = {}
        self._expiry: asyncio.TimerHandle | None = None
        self.expires_at: float | None = None
        """When the loaded model will be unloaded (Unix time; None: not scheduled)."""
        self.max_queue = max_queue
        self.default_max_tokens = default_max_tokens
        self.activity: deque[Served] = deque(maxlen=200)
        self.listeners: list[Callable[[Served], None]] = []
        self._running: dict[Generation, asyncio.Future[Finished]] = {}
        self._waiting = 0
        self._turns = Turns(self._capacity)
        """A shared turn is held from an API generation's start to its end; a model load or unload holds the
        exclusive one."""
        self._kv = KVReservations(
            lambda: engine.kv_room.room if kv_budget is None else kv_budget, lambda: engine.kv_room.bytes_per_token
        )
        self._closing = False

    def _capacity(self) -> int:
        """API generations that may run at once: a batch's worth when the loaded model batches, else one."""
        return DECODE_BATCH if self.engine.kv_room.batches and self.engine.batching.enabled else 1

    @property
    def running(self) -> int:
        """API generations running now."""
        return len(self._running)

    def model_id(self, requested: str) -> str:
        """The id of the model `requested` names (its id, store key, folder path or name; Ollama's ':latest' too).

        Unknown: 404. Known but not loaded while swapping is off (the app's server): 409. While swapping, a model
        another app keeps is named by the id its import will give it (it is brought in on the request's turn).
        """
        if self.swap_models:
            return self.models.served_name(requested)
        info = self.models.find(requested)
        if not self.models.is_loaded(info):
            loaded = self.models.loaded()
            raise ApiError.model_in_use(info.name, loaded.name if loaded else None)
        return info.name

    def set_keep_alive(self, model: str, seconds: float | None) -> None:
        """How long `model` stays loaded after its requests (a request's `keep_alive`; None: forever)."""
        self._keep_alive[model] = seconds

    async def _ensure_loaded(self, model: str) -> None:
        """Load `model` in place of the loaded one, if it is not loaded (call while holding the exclusive turn); a
        model another app keeps is brought into the store first."""
        info = await self.models.resolve(model)
        if self.models.is_loaded(info):
            return
        if not self.swap_models:
            loaded = self.models.loaded()
            raise ApiError.model_in_use(info.name, loaded.name if loaded else None)
        try:
            await asyncio.wrap_future(self.engine.load(info.path))
        except ModelError as e:
            raise ApiError.cannot_load(info.name, str(e)) from None

    async def load(self, model: str) -> None:
        """Load `model` now (when its turn comes) without generating: Ollama's empty-prompt request."""
        await self._wait_for_turn(exclusive=True)
        try:
            await self._ensure_loaded(model)
        finally:
            self._turns.release_exclusive()
        self._schedule_expiry(model)

    async def unload(self, model: str) -> None:
        """Unload `model` when the requests before this one are done, if it is still the loaded one."""
        if self._expiry is not None:
            self._expiry.cancel()
        await self._turns.take_exclusive()
        try:
            if self.swap_models and self.models.is_loaded(self.models.find(model)):
                await asyncio.wrap_future(self.engine.unload())
                self.expires_at = None
        finally:
            self._turns.release_exclusive()

    def _schedule_expiry(self, model: str) -> None:
        """Once no request is left, unload `model` after its keep-alive."""
        if self._expiry is not None:
            self._expiry.cancel()
        self._expiry, self.expires_at = None, None
        seconds = self._keep_alive.get(model, self.keep_alive)
        if not self.swap_models or seconds is None or self.queued or self._closing:
            return
        loop = asyncio.get_running_loop()
        self.expires_at = time.time() + max(seconds, 0)
        self._expiry = loop.call_later(max(seconds, 0), lambda: loop.create_task(self._expire(model)))

    async def _expire(self, model: str) -> None:
        if not self.queued and not self._closing:
            await self.unload(model)

    @property
    def queued(self) -> int:
        """API requests generating or waiting for their turn."""
        return len(self._running) + self._waiting

    async def _wait_for_turn(self, exclusive: bool) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
            self._expiry = None
        if self.queued >= self.max_queue:
            raise ApiError(503, f"The server is busy: {self.queued} requests are already queued. Retry shortly.",
                           "server_error", None, "server_busy")
        self._waiting += 1
        try:
            await (self._turns.take_exclusive() if exclusive else self._turns.take_shared())
        finally:
            self._waiting -= 1
        if self._closing:
            self._turns.release_exclusive() if exclusive else self._turns.release_shared()
            raise ApiError(503, "The server is stopping.", "server_error", None, "server_stopping")

    async def _turn_on(self, model: str) -> None:
        """Wait for a shared turn with `model` loaded: when it is not, bring it in (import, load) in the exclusive
        turn first."""
        await self._wait_for_turn(exclusive=False)
        while not self._serving(model):
            self._turns.release_shared()
            await self._wait_for_turn(exclusive=True)
            try:
                await self._ensure_loaded(model)
            finally:
                self._turns.release_exclusive()
            await self._wait_for_turn(exclusive=False)
        self._turns.wake()  # a model that batches lets the requests waiting behind this one start too

    def _serving(self, model: str) -> bool:
        """Whether `model` is the loaded one (found without importing anything)."""
        try:
            return self.models.is_loaded(self.models.find(model))
        except ApiError:
            return False

    @asynccontextmanager
    async def generation(
        self, endpoint: str, model: str, begin: Begin, context_tokens: int = 0
    ) -> AsyncIterator[Generation]:
        """Start a generation for one request when its turn comes; whatever happens to the request, it is stopped.
        `context_tokens`: the context it may take (its KV cache is reserved first; 0: nothing is reserved)."""
        await self._turn_on(model)
        reserved = 0
        try:
            reserved = self._kv.reserve(context_tokens)
            generation = begin(asyncio.get_running_loop())
        except BaseException:
            self._kv.release(reserved)
            self._turns.release_shared()
            raise
        finished = asyncio.wrap_future(generation.finished)
        self._running[generation] = finished
        finished.add_done_callback(lambda done: self._record(endpoint, model, generation, done.result(), reserved))
        try:
            yield generation
        finally:
            generation.stop()

    def _record(self, endpoint: str, model: str, generation: Generation, finished: Finished, reserved: int) -> None:
        self._running.pop(generation, None)
        self._kv.release(reserved)
        self._turns.release_shared()
        served = Served(endpoint, model, finished)
        self.activity.append(served)
        self._schedule_expiry(model)
        for listener in self.listeners:
            listener(served)

    async def stop_all(self, timeout: float = 30) -> None:
        """Stop every generation in flight and wait (up to `timeout` s) for the worker to let go of them."""
        self._closing = True
        if self._expiry is not None:
            self._expiry.cancel()
        for generation in list(self._running):
            generation.stop()
        if self._running:
            await asyncio.wait(list(self._running.values()), timeout=timeout)


REQUEST_QUEUE = web.AppKey("request_queue", RequestQueue)
