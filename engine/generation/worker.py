"""The worker: what runs on the engine's one thread. It serves the request channel, holds the model (through
its lifecycle), answers, and keeps the figures other threads read (memory counters, activity) as plain values.

The thread itself comes from engine/generation/mlx_threads.py and never ends; `run` returns once the
channel is closed and the model freed, and the thread waits for the next engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from engine.backends.base import MemoryCounters
from engine.generation.batch_policy import BatchPolicy, BatchStatus
from engine.generation.batch_run import AnswerRequest, BatchRun
from engine.generation.channel import RequestChannel
from engine.generation.events import Event, Finished, Stats
from engine.generation.handle import Generation
from engine.generation.lifecycle import ModelLifecycle
from engine.generation.settings import SamplingSettings, within_hard_limit, within_model_context
from engine.metrics import Activity, after, started

if TYPE_CHECKING:
    from engine.generation.prompt_cache import ConversationCache
    from engine.generation.turn import AnswerStream, PreparedPrompt

SAVE_FILES = "write the prompt-cache files"
"""The tag of the queued writing of cache files: a running batch takes it out of the channel and queues it again
once it ends (the files are written when the worker is idle)."""

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
        self.batching = BatchPolicy()
        self.batch_status = BatchStatus()
        """The running batch as of its last step (engine/generation/batch_run.py)."""
        self._save_queued = False
        self._save_after_batch = False

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

    def answer(self, request: AnswerRequest) -> Finished:
        """Answer alone, or start a batch that answers this and the answers that join it (batch_run.py)."""
        from engine.generation.turn import run_turn

        emit = self.emitter(request.generation)
        early = self.check_startable(request, emit)
        if early is not None:
            return early
        batch = self._open_batch(request)
        if batch is not None:
            return BatchRun(self, batch).run(request)
        self.activity = started(self.activity)
        cache = None
        try:
            prepared, cache = self._take_cache(request)
            finished = run_turn(self.lifecycle.backend, cache, prepared, request.generation.stop_requested, emit)
            if self.lifecycle.caches.answered(request.conversation_id, cache):
                self._queue_save()
            return finished
        except Exception as e:  # noqa: BLE001 — e.g. a template that cannot render these messages
            if cache is not None:
                cache.reset()
            return self.unpreparable(emit, e)

    def emitter(self, generation: Generation) -> Callable[[Event], None]:
        """Emit one answer's events, keeping the memory counters and the activity current."""

        def emit(event: Event) -> None:
            self.read_counters()
            self.activity = after(self.activity, event)
            generation.emit(event)

        return emit

    def still_answering(self) -> None:
        """An answer of a batch ended, but others run on: the activity still says generating."""
        self.activity = replace(self.activity, generating=True)

    def check_startable(self, request: AnswerRequest, emit: Callable[[Event], None]) -> Finished | None:
        """The Finished of an answer that cannot start (no model, already stopped); None when it can."""
        if self.lifecycle.backend is None:
            return finish_early(emit, "error", "no model is loaded")
        if request.generation.stop_requested.is_set():
            return finish_early(emit, "cancelled", None)
        return None

    def unpreparable(self, emit: Callable[[Event], None], error: Exception) -> Finished:
        return finish_early(emit, "error", f"could not prepare the prompt: {error}")

    def _take_cache(self, request: AnswerRequest) -> tuple[PreparedPrompt, ConversationCache]:
        """The prompt fitted to the context, and the prompt cache to answer it with."""
        backend, caches = self.lifecycle.backend, self.lifecycle.caches
        context = self.lifecycle.info.context_length
        fitted = within_hard_limit(within_model_context(request.settings, context), backend.context_limit)
        prepared = request.prepare(backend.tokenizer, fitted)
        return prepared, caches.take(request.conversation_id, backend.tokenizer, prepared.text)

    def open_answer(
        self, request: AnswerRequest, emit: Callable[[Event], None]
    ) -> tuple[AnswerStream, ConversationCache]:
        """An answer ready to join a batch: its stream (prompt rewound against its cache) and its cache."""
        from engine.generation.turn import AnswerStream

        self.activity = started(self.activity)
        prepared, cache = self._take_cache(request)
        try:
            return AnswerStream(self.lifecycle.backend, cache, prepared, emit), cache
        except Exception:
            cache.reset()
            raise

    def _open_batch(self, request: AnswerRequest) -> Any:
        """A new batch for `request`, when the policy says so and the backend can batch (None: answer alone)."""
        backend = self.lifecycle.backend
        if not backend.batchable:
            return None
        others = self._channel.front_is(lambda tag: isinstance(tag, AnswerRequest))
        self.batching.draft_model = backend.draft is not None
        if not self.batching.batches(request.settings.seed is not None, others):
            return None
        return backend.open_batch()

    def take_joining_answer(self) -> tuple[AnswerRequest, Any] | None:
        """The next answer waiting at the front of the channel, if it can join the running batch. A queued writing
        of cache files met on the way is put off until the batch ends (`batch_ended`)."""
        while (taken := self._channel.take_front(self._joins)) is not None:
            tag, future = taken
            if tag != SAVE_FILES:
                return tag, future
            future.set_result(None)
            self._save_queued = False
            self._save_after_batch = True
        return None

    def _joins(self, tag: Any) -> bool:
        joining = isinstance(tag, AnswerRequest) and tag.settings.seed is None and self.batching.enabled
        return joining or tag == SAVE_FILES

    def batch_ended(self, files_to_save: bool) -> None:
        """After a batch: clear its status, and queue the writing of cache files its answers changed (not before:
        a write queued in the channel would end the batch's admissions)."""
        self.batch_status = BatchStatus()
        if files_to_save or self._save_after_batch:
            self._save_after_batch = False
            self._queue_save()

    def _queue_save(self) -> None:
        if not self._save_queued:
            self._save_queued = True
            self._channel.submit(self._save_when_idle, SAVE_FILES)

    def _save_when_idle(self) -> None:
        """Write the conversations' cache files once no request is waiting, so a write never delays an answer
        that was asked for (an answer asked for during a write waits for it to end). Releasing the model writes
        whatever is still unsaved."""
        if self._channel.waiting():
            self._channel.submit(self._save_when_idle, SAVE_FILES)
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
