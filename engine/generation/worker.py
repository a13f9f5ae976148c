"""The worker: what runs on the engine's one thread. It serves the request channel, holds the model (through
its lifecycle), answers, and keeps the figures other threads read (memory counters, activity) as plain values.

The thread itself comes from engine/generation/mlx_threads.py and never ends; `run` returns once the
channel is closed and the model freed, and the thread waits for the next engine.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from engine.backends.base import MemoryCounters
from engine.generation.channel import RequestChannel
from engine.generation.events import Event, Finished, Stats
from engine.generation.handle import Generation
from engine.generation.lifecycle import ModelLifecycle
from engine.generation.settings import SamplingSettings, within_hard_limit, within_model_context
from engine.metrics import Activity, after, started

if TYPE_CHECKING:
    from engine.generation.turn import PreparedPrompt

Preparer = Callable[[Any, SamplingSettings], "PreparedPrompt"]
"""(tokenizer, settings) -> the prompt to answer and its answer's settings; runs on the worker."""


def finish_early(emit: Callable[[Event], None], reason: str, error: str | None) -> Finished:
    """End an answer that never reached the model."""
    finished = Finished("", reason, Stats(0, 0, 0.0, 0, 0.0, 0.0, 0), (), error)
    emit(finished)
    return finished


class Worker:
    def __init__(self, channel: RequestChannel, lifecycle: ModelLifecycle) -> None:
        self._channel = channel
        self.lifecycle = lifecycle
        self.counters = MemoryCounters(0, 0, 0)
        """The runtime's memory as of the worker's last step."""
        self.activity = Activity()
        self._save_queued = False

    def run(self) -> None:
        """The worker thread's job: serve requests until the channel closes, then free the model."""
        self._channel.serve(self.read_counters)
        self.release()

    def read_counters(self) -> None:
        if self.lifecycle.backend is not None:
            self.counters = self.lifecycle.backend.memory()

    def release(self) -> None:
        counters = self.lifecycle.release()
        if counters is not None:
            self.counters = counters

    def reset_peak_memory(self) -> None:
        if self.lifecycle.backend is not None:
            self.lifecycle.backend.reset_peak_memory()

    def answer(
        self, generation: Generation, prepare: Preparer, settings: SamplingSettings, conversation_id: str | None
    ) -> Finished:
        from engine.generation.turn import run_turn

        self.activity = started(self.activity)

        def emit(event: Event) -> None:
            self.read_counters()
            self.activity = after(self.activity, event)
            generation.emit(event)

        backend, caches = self.lifecycle.backend, self.lifecycle.caches
        if backend is None:
            return finish_early(emit, "error", "no model is loaded")
        if generation.stop_requested.is_set():
            return finish_early(emit, "cancelled", None)

        cache = None
        try:
            context = self.lifecycle.info.context_length
            fitted = within_hard_limit(within_model_context(settings, context), backend.context_limit)
            prepared = prepare(backend.tokenizer, fitted)
            cache = caches.take(conversation_id, backend.tokenizer, prepared.text)
            finished = run_turn(backend, cache, prepared, generation.stop_requested, emit)
            if caches.answered(conversation_id, cache):
                self._queue_save()
            return finished
        except Exception as e:  # noqa: BLE001 — e.g. a template that cannot render these messages
            if cache is not None:
                cache.reset()
            return finish_early(emit, "error", f"could not prepare the prompt: {e}")

    def _queue_save(self) -> None:
        if not self._save_queued:
            self._save_queued = True
            self._channel.submit(self._save_when_idle)

    def _save_when_idle(self) -> None:
        """Write the conversations' cache files once no request is waiting, so a write never delays an answer
        that was asked for (an answer asked for during a write waits for it to end). Releasing the model writes
        whatever is still unsaved."""
        if self._channel.waiting():
            self._channel.submit(self._save_when_idle)
            return
        self._save_queued = False
        self.save_cache_files()

    def save_cache_files(self) -> None:
        if self.lifecycle.caches is not None:
            self.lifecycle.caches.save_unsaved()

    def forget(self, conversation_id: str) -> None:
        if self.lifecycle.caches is not None:
            self.lifecycle.caches.forget(conversation_id)
        if self.lifecycle.cache_folder is not None:
            self.lifecycle.cache_folder.remove(conversation_id)

    def clear_cache_files(self) -> None:
        if self.lifecycle.caches is not None:
            self.lifecycle.caches.drop_unsaved()
        if self.lifecycle.cache_folder is not None:
            self.lifecycle.cache_folder.clear()

    def set_cache_files_limit(self, limit: int) -> None:
        if self.lifecycle.cache_folder is not None:
            self.lifecycle.cache_folder.set_limit(limit)
