"""A running batch on the worker: answers join it between two steps and leave it when they end.

The worker starts one when an answer begins and the model can batch (engine/generation/batch_policy.py says
when). Before each step, the answers waiting at the front of the request channel join (until the first work that
is not an answer: a model load, a benchmark... which waits for the batch to end); an answer whose stop flag is set
(the user stopped it, its API client went away) leaves; then one step decodes a token for every answer and
prefills a chunk of the ones still reading their prompt, so a window answer is never starved by API streams.
Each answer keeps its own prompt cache, settings, stop strings, stats and events (turn.AnswerStream).
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from engine.generation.batch_policy import BatchStatus, TokenRate
from engine.generation.events import Finished
from engine.generation.handle import Generation
from engine.generation.settings import SamplingSettings

if TYPE_CHECKING:
    from engine.backends.mlx_batch import Left, MLXBatch
    from engine.generation.prompt_cache import ConversationCache
    from engine.generation.turn import AnswerStream
    from engine.generation.worker import Preparer, Worker


@dataclass(frozen=True)
class AnswerRequest:
    """An answer asked of the worker: what the request channel carries as the tag of its work."""

    generation: Generation
    prepare: Preparer
    settings: SamplingSettings
    conversation_id: str | None


@dataclass
class _Running:
    request: AnswerRequest
    stream: AnswerStream
    cache: ConversationCache
    future: Future[Finished] | None
    """The channel's future of an answer that joined a running batch (None: the one that started it)."""
    draft_layers: list
    """The draft model's cache layers of `cache` (speculative decoding): the batch runs the model alone, so they
    stay out of it and catch up when the answer leaves."""


class BatchRun:
    """One batch, from its first answer until none is left. Worker thread only."""

    def __init__(self, worker: Worker, batch: MLXBatch) -> None:
        self._worker, self._batch = worker, batch
        self._running: dict[int, _Running] = {}
        self._rate = TokenRate()
        self._files_to_save = False
        self._first: Finished | None = None

    def run(self, first: AnswerRequest) -> Finished:
        """Answer `first` and every answer that joins, until the batch is empty; `first`'s Finished."""
        self._join(first, None)
        try:
            while True:
                self._admit()
                if not self._running:
                    break
                self._step()
        except Exception as e:  # noqa: BLE001 — every answer keeps its partial text and reports the failure
            self._fail_all(f"generation failed: {e}")
        finally:
            self._batch.close()
            self._worker.batch_ended(self._files_to_save)
        return self._first

    def _admit(self) -> None:
        """Let the answers waiting at the front of the channel join. Once every answer has left, a model with a draft
        ends the batch instead: the next answer starts on its own, alone with its draft if nothing else waits."""
        if not self._running and self._worker.batching.draft_model:
            return
        while (taken := self._worker.take_joining_answer()) is not None:
            request, future = taken
            self._join(request, future)

    def _join(self, request: AnswerRequest, future: Future[Finished] | None) -> None:
        emit = self._worker.emitter(request.generation)
        finished = self._worker.check_startable(request, emit)
        if finished is None:
            try:
                stream, cache = self._worker.open_answer(request, emit)
                model_layers = self._worker.lifecycle.backend.target_cache(cache.kv)
                uid = self._batch.join(stream.to_prefill, model_layers, stream.settings)
            except Exception as e:  # noqa: BLE001 — e.g. a template that cannot render these messages
                finished = self._worker.unpreparable(emit, e)
            else:
                self._running[uid] = _Running(request, stream, cache, future, cache.kv[len(model_layers) :])
                self._publish()
                return
        self._settle(future, finished)

    def _step(self) -> None:
        for uid in [uid for uid, r in self._running.items() if r.request.generation.stop_requested.is_set()]:
            self._end(self._batch.leave(uid))
        if not self._running:
            return
        steps, left = self._batch.step()
        batched = len(self._running)
        for uid, step in steps:
            running = self._running[uid]
            done = running.stream.feed(step, running.request.generation.stop_requested.is_set(), batched)
            if done and step.finish_reason is None:
                self._end(self._batch.leave(uid))
        for gone in left:
            self._end(gone)
        self._publish(len(steps))

    def _end(self, left: Left) -> None:
        running = self._running.pop(left.uid)
        running.cache.kv = left.kv + running.draft_layers
        finished = running.stream.finish()
        self._worker.lifecycle.backend.catch_up_draft(running.cache.kv, running.cache.tokens)
        if self._worker.lifecycle.caches.answered(running.request.conversation_id, running.cache):
            self._files_to_save = True
        if self._running:
            self._worker.still_answering()
        self._settle(running.future, finished)

    def _fail_all(self, error: str) -> None:
        """End every answer with `error`; the batch is not used again (answers still waiting start a new one)."""
        for uid in list(self._running):
            running = self._running.pop(uid)
            running.stream.fail(error)
            self._settle(running.future, running.stream.finish())

    def _settle(self, future: Future[Finished] | None, finished: Finished) -> None:
        if future is None:
            self._first = finished
        else:
            future.set_result(finished)

    def _publish(self, tokens: int = 0) -> None:
        running = len(self._running)
        note = self._worker.batching.paused_note(running)
        self._worker.batch_status = BatchStatus(running, self._rate.add(tokens), self._batch.kv_bytes, note)
