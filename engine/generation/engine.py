"""The engine: one long-lived worker thread that makes every MLX call (load, generate, unload).

The thread never ends (engine/generation/mlx_threads.py explains why); once the engine is shut down
the next engine reuses it.

MLX streams and lazy arrays belong to the thread that made them, so the model, the prompt caches and
the random seed all live on this one thread; callers get plain Python values back through futures
and through a `Generation`'s event queue.
"""

from __future__ import annotations

import asyncio
import gc
import queue
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from engine.allocator import return_freed_memory
from engine.generation.events import Event, Finished, Stats
from engine.generation.mlx_threads import run_on_mlx_thread
from engine.generation.settings import SamplingSettings, within_model_context
from engine.memory import LimitSetter, MemoryLimits, MemoryReading, system_memory
from engine.metrics import Activity, after, started
from engine.models.fit import DEFAULT_CONTEXT
from engine.models.folder import ModelInfo

if TYPE_CHECKING:
    from engine.compute_dtype import ComputePlan
    from engine.generation.turn import PreparedPrompt

T = TypeVar("T")
Message = dict[str, str]
Preparer = Callable[[Any, SamplingSettings], "PreparedPrompt"]
"""(tokenizer, settings) -> the prompt to answer and its answer's settings; runs on the worker."""
_SHUTDOWN = object()


class Generation:
    """A handle on one answer being generated: iterate its events, or stop it.

    Created with an asyncio loop, events are delivered on that loop (`async for`); otherwise
    through a thread-safe queue (`for`, or `drain()` from a UI timer).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._stop = threading.Event()
        self._loop = loop
        self._queue: queue.Queue[Event] = queue.Queue()
        self._async_queue: asyncio.Queue[Event] | None = asyncio.Queue() if loop else None
        self.finished: Future[Finished] = Future()

    def stop(self) -> None:
        """Ask the worker to end this answer; it does within one token (or one prefill chunk)."""
        self._stop.set()

    @property
    def stop_requested(self) -> threading.Event:
        return self._stop

    def emit(self, event: Event) -> None:
        """Called on the worker thread (or by whoever cancels the answer before it started)."""
        if self._loop is not None:
            self._deliver_on_loop(event)
        else:
            self._queue.put(event)
        if isinstance(event, Finished):
            self.finished.set_result(event)

    def _deliver_on_loop(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._async_queue.put_nowait, event)
        except RuntimeError:
            pass  # the loop is closed (the app is quitting): nobody can read the event, but `finished` is still set

    def drain(self) -> list[Event]:
        """Every event that has arrived so far, without waiting."""
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self._queue.get()
            yield event
            if isinstance(event, Finished):
                return

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self._async_queue.get()
            yield event
            if isinstance(event, Finished):
                return

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Like `async for`, but each step brings every event that has arrived (at least one).

        A consumer that falls behind (a slow client, a busy loop) catches up in one step instead of
        paying its per-event cost (a network write) for each token.
        """
        while True:
            events = [await self._async_queue.get()]
            while not self._async_queue.empty():
                events.append(self._async_queue.get_nowait())
            yield events
            if isinstance(events[-1], Finished):
                return

    def result(self, timeout: float | None = None) -> Finished:
        return self.finished.result(timeout)


class Engine:
    """Owns the model and the MLX worker thread. Every public method is safe to call from any thread."""

    def __init__(self, max_conversations: int = 4, upcast_on_cpu: bool = True, shared_caches: int = 3) -> None:
        self._requests: queue.Queue[Any] = queue.Queue()
        self._closing = False
        self._closing_lock = threading.Lock()
        self._max_conversations = max_conversations
        self.upcast_on_cpu = upcast_on_cpu
        """Run quantized/half models in float32 on the CPU backend when memory allows (engine/compute_dtype.py)."""
        self._shared_size = shared_caches
        self._shared: Any = None
        self._model: Any = None
        self._tokenizer: Any = None
        self._caches: OrderedDict[str, Any] = OrderedDict()
        self._mlx_counters = (0, 0, 0)
        self.model_info: ModelInfo | None = None
        self.compute_plan: ComputePlan | None = None
        self.resident_weight_bytes = 0
        """Bytes the loaded model's weights take in memory (more than on disk once upcast to float32)."""
        self._limits = LimitSetter()
        self._activity = Activity()
        self._pending: set[Generation] = set()
        self._pending_lock = threading.Lock()
        self._stopped = run_on_mlx_thread(self._run)
        """Set when the worker loop has ended, the model is freed and the thread is free for another engine."""

    # -- the worker thread -------------------------------------------------------------------
    def _run(self) -> None:
        while (request := self._requests.get()) is not _SHUTDOWN:
            fn, future = request
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:  # noqa: BLE001 — handed to the caller through the future
                future.set_exception(e)
            self._read_mlx_counters()
        self._release_model()

    def _read_mlx_counters(self) -> None:
        import mlx.core as mx

        self._mlx_counters = (mx.get_active_memory(), mx.get_peak_memory(), mx.get_cache_memory())

    def _release_model(self) -> None:
        """Free the model by dropping the references to it: nothing holds its arrays in a reference cycle, so no
        collector pass is needed (a full one holds the GIL ~0.2 s once mlx_lm, transformers and torch are in)."""
        import mlx.core as mx

        self._model = self._tokenizer = self.model_info = self.compute_plan = self._shared = None
        self.resident_weight_bytes = 0
        self._caches.clear()
        mx.clear_cache()
        return_freed_memory()

    def _load(self, spec: str | Path, context: int, allow_oversize: bool) -> ModelInfo:
        """Check the new model (and that it fits) before freeing the old one, so a refusal costs the user nothing."""
        from mlx.utils import tree_flatten

        from engine.compute_dtype import apply_compute_policy, float32_fit
        from engine.generation.shared_caches import SharedCaches
        from engine.models.fit import memory_budget
        from engine.models.loading import inspect_model, load_model, refuse_if_too_big

        info = inspect_model(spec)
        if not allow_oversize:
            refuse_if_too_big(info, min(context, info.context_length or context))
        self._release_model()
        self._model, self._tokenizer = load_model(info)
        fit = float32_fit(info, context, memory_budget())
        self.compute_plan = apply_compute_policy(self._model, fit, self.upcast_on_cpu)
        self._shared = SharedCaches(self._model, self._shared_size)
        self.resident_weight_bytes = sum(v.nbytes for _, v in tree_flatten(self._model.parameters()))
        self.model_info = info
        return_freed_memory()  # what loading and the float32 upcast used on the way
        return info

    def _cache_for(self, conversation_id: str) -> Any:
        from engine.generation.prompt_cache import ConversationCache

        cache = self._caches.pop(conversation_id, None) or ConversationCache(self._model)
        self._caches[conversation_id] = cache
        while len(self._caches) > self._max_conversations:
            self._caches.popitem(last=False)
        return cache

    def _generate(self, generation: Generation, prepare: Preparer, settings: SamplingSettings, conversation_id: str | None) -> Finished:
        from engine.generation.turn import run_turn

        self._activity = started(self._activity)

        def emit(event: Event) -> None:
            self._read_mlx_counters()
            self._activity = after(self._activity, event)
            generation.emit(event)

        if self._model is None:
            return self._finish_early(emit, "error", "no model is loaded")
        if generation.stop_requested.is_set():
            return self._finish_early(emit, "cancelled", None)

        cache = None
        try:
            prepared = prepare(self._tokenizer, within_model_context(settings, self.model_info.context_length))
            if conversation_id is None:
                cache = self._shared.take(self._tokenizer, prepared.text)
            else:
                cache = self._cache_for(conversation_id)
            return run_turn(self._model, self._tokenizer, cache, prepared, generation.stop_requested, emit)
        except Exception as e:  # noqa: BLE001 — e.g. a template that cannot render these messages
            if cache is not None:
                cache.reset()
            return self._finish_early(emit, "error", f"could not prepare the prompt: {e}")

    def _forget(self, conversation_id: str) -> None:
        self._caches.pop(conversation_id, None)

    @staticmethod
    def _finish_early(emit: Callable[[Event], None], reason: str, error: str | None) -> Finished:
        finished = Finished("", reason, Stats(0, 0, 0.0, 0, 0.0, 0.0, 0), (), error)
        emit(finished)
        return finished

    # -- the public API --------------------------------------------------------------------
    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run `fn` on the worker thread, after everything already queued (cancelled once shut down)."""
        future: Future[T] = Future()
        with self._closing_lock:
            if self._closing:
                future.cancel()
            else:
                self._requests.put((fn, future))
        return future

    def load(
        self, spec: str | Path, context: int = DEFAULT_CONTEXT, allow_oversize: bool = False
    ) -> Future[ModelInfo]:
        """Load a model (a folder, or a repo id in the HF cache), freeing the one loaded before.

        A model whose weights and KV cache at `context` tokens won't fit in memory is refused with a
        ModelError unless `allow_oversize`.
        """
        return self.submit(lambda: self._load(spec, context, allow_oversize))

    def run_with_model(self, fn: Callable[[Any, Any], T]) -> Future[T]:
        """Run `fn(model, tokenizer)` on the worker thread (benchmarks, export)."""
        return self.submit(lambda: fn(self._model, self._tokenizer))

    def unload(self) -> Future[None]:
        return self.submit(self._release_model)

    def chat(
        self,
        messages: list[Message],
        settings: SamplingSettings = SamplingSettings(),
        conversation_id: str | None = "default",
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Generation:
        """Queue an answer to `messages`; the conversation's prompt cache is reused across calls.

        With `conversation_id=None` the request belongs to no conversation (an API request): it reuses
        whichever shared cache holds the longest prefix of its prompt.
        """
        from engine.generation.turn import prepare_chat

        return self._start(lambda tokenizer, s: prepare_chat(tokenizer, messages, s), settings, conversation_id, loop)

    def complete(
        self,
        prompt: str,
        settings: SamplingSettings = SamplingSettings(),
        conversation_id: str | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Generation:
        """Queue a continuation of raw text (no chat template), e.g. for /v1/completions."""
        from engine.generation.turn import prepare_text

        return self._start(lambda tokenizer, s: prepare_text(tokenizer, prompt, s), settings, conversation_id, loop)

    def _start(
        self,
        prepare: Preparer,
        settings: SamplingSettings,
        conversation_id: str | None,
        loop: asyncio.AbstractEventLoop | None,
    ) -> Generation:
        generation = Generation(loop)
        with self._pending_lock:
            self._pending.add(generation)
        generation.finished.add_done_callback(lambda _: self._settled(generation))
        request = self.submit(lambda: self._generate(generation, prepare, settings, conversation_id))
        request.add_done_callback(lambda r: r.cancelled() and self._finish_early(generation.emit, "cancelled", None))
        return generation

    def _settled(self, generation: Generation) -> None:
        with self._pending_lock:
            self._pending.discard(generation)

    def forget(self, conversation_id: str) -> Future[None]:
        """Drop a conversation's prompt cache (it was deleted, or will be rebuilt)."""
        return self.submit(lambda: self._forget(conversation_id))

    def memory(self) -> MemoryReading:
        """MLX's counters as of the worker's last step, and the system's memory now. Never calls MLX here."""
        active, peak, cache = self._mlx_counters
        return MemoryReading(active, peak, cache, system_memory(), self._limits.current)

    def activity(self) -> Activity:
        """The answer in progress (stats as of its latest token) and the recent answers. Never calls MLX."""
        return self._activity

    def reset_peak_memory(self) -> Future[None]:
        def reset() -> None:
            import mlx.core as mx

            mx.reset_peak_memory()

        return self.submit(reset)

    def set_memory_limits(self, memory: int | None, cache: int | None) -> Future[MemoryLimits]:
        """Set MLX's memory and cache limits in bytes on the worker (None: MLX's default); the limits in effect."""
        return self.submit(lambda: self._limits.apply(memory, cache))

    def stop_answers(self) -> None:
        """Stop every answer, running or queued, whoever asked for it (the window, API clients)."""
        with self._pending_lock:
            for generation in list(self._pending):
                generation.stop()

    def shutdown(self) -> None:
        """Stop every answer, cancel the work not yet started, and free the model.

        Afterwards no MLX call is running or will run, so the interpreter can finalize safely: a worker
        still inside MLX at exit would be killed mid-call. The worker's thread does not end (see
        engine/generation/mlx_threads.py): it waits for the next engine. Safe to call twice.
        """
        self.stop_answers()
        with self._closing_lock:
            self._closing = True
            self._cancel_queued()
            self._requests.put(_SHUTDOWN)
        self._stopped.wait()
        gc.collect()

    def _cancel_queued(self) -> None:
        """Cancel the work not yet started (a queued model load, answers): quitting should not wait for it."""
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request is not _SHUTDOWN:
                request[1].cancel()
