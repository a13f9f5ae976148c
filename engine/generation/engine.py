"""The engine: the public facade over one long-lived worker thread that makes every model call.

Three rooms behind it: the request channel (engine/generation/channel.py) carries work to the worker
(worker.py), which holds the model through its lifecycle (lifecycle.py) and answers; each answer's events
come back through its `Generation` (handle.py). The worker's thread never ends (mlx_threads.py explains
why); once the engine is shut down the next engine reuses it.

MLX streams and lazy arrays belong to the thread that made them, so the model, the prompt caches and the
random seed all live on that one thread (the backend refuses calls from any other, engine/backends/base.py);
callers get plain Python values back through futures and through a `Generation`'s event queue.
"""

from __future__ import annotations

import asyncio
import gc
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from engine.generation.batch_policy import BatchPolicy, BatchStatus
from engine.generation.batch_run import AnswerRequest
from engine.generation.channel import RequestChannel
from engine.generation.handle import Generation
from engine.generation.kv_room import KVRoom
from engine.generation.lifecycle import ModelLifecycle
from engine.generation.mlx_threads import run_on_mlx_thread
from engine.generation.settings import SamplingSettings
from engine.generation.worker import Preparer, Worker, finish_early
from engine.memory import LimitSetter, MemoryLimits, MemoryReading, system_memory
from engine.messages import Message
from engine.metrics import Activity
from engine.models.fit import DEFAULT_CONTEXT
from engine.models.folder import ModelInfo

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.compute_dtype import ComputePlan
    from engine.generation.disk_cache import CacheFolder
    from engine.speculative import DraftChoice
    from engine.tools.format import ToolFormat

__all__ = ["Engine", "Generation"]

T = TypeVar("T")


class Engine:
    """Owns the model and the worker thread. Every public method is safe to call from any thread."""

    def __init__(
        self,
        max_conversations: int = 4,
        upcast_on_cpu: bool = True,
        shared_caches: int = 3,
        kv_bits: int | None = None,
        cache_folder: CacheFolder | None = None,
    ) -> None:
        """With a `cache_folder`, conversations' prompt caches are kept in files there and outlive the engine
        (engine/generation/disk_cache.py)."""
        self.upcast_on_cpu = upcast_on_cpu
        """Run quantized/half models in float32 on the CPU backend when memory allows (engine/compute_dtype.py)."""
        self.kv_bits = kv_bits
        """8 or 4: MLX models loaded from now on keep their KV cache quantized (mlx_lm's QuantizedKVCache)."""
        self.drafts: dict[str, DraftChoice] = {}
        """Draft models for speculative decoding, by engine.models.store.model_key of the model they draft for
        (MLX only); used when that model is loaded."""
        self.cache_folder = cache_folder
        """Read it from any thread (`usage`); change it through the engine (`set_cache_files_limit`...)."""
        self._channel = RequestChannel()
        self._lifecycle = ModelLifecycle(max_conversations, shared_caches, cache_folder)
        self._worker = Worker(self._channel, self._lifecycle)
        self._limits = LimitSetter()
        self._pending: set[Generation] = set()
        self._pending_lock = threading.Lock()
        self._stopped = run_on_mlx_thread(self._worker.run)
        """Set when the worker loop has ended, the model is freed and the thread is free for another engine."""

    @property
    def model_info(self) -> ModelInfo | None:
        return self._lifecycle.info

    @property
    def tool_format(self) -> ToolFormat | None:
        """How the loaded model takes tools and writes calls (engine/tools/format.py); None: it has no tool format."""
        return self._lifecycle.tool_format

    @property
    def compute_plan(self) -> ComputePlan | None:
        return self._lifecycle.compute_plan

    @property
    def loaded_kv_bits(self) -> int | None:
        """The loaded model's KV-cache bits (None: full precision, or no model)."""
        return self._lifecycle.kv_bits

    @property
    def draft_name(self) -> str | None:
        """The loaded model's draft model (speculative decoding); None: it runs without one."""
        return self._lifecycle.draft_name

    @property
    def draft_note(self) -> str:
        """Why the loaded model runs without the draft set for it ("" when it has none or runs with it)."""
        return self._lifecycle.draft_note

    @property
    def resident_weight_bytes(self) -> int:
        """Bytes the loaded model's weights take in memory (more than on disk once upcast to float32)."""
        return self._lifecycle.resident_weight_bytes

    def submit(self, fn: Callable[[], T]) -> Future[T]:
        """Run `fn` on the worker thread, after everything already queued (cancelled once shut down)."""
        return self._channel.submit(fn)

    def load(
        self, spec: str | Path, context: int = DEFAULT_CONTEXT, allow_oversize: bool = False
    ) -> Future[ModelInfo]:
        """Load a model (a folder, or a repo id in the HF cache), freeing the one loaded before.

        A model whose weights and KV cache at `context` tokens won't fit in memory is refused with a
        ModelError unless `allow_oversize`. The KV cache is quantized to `kv_bits` where the backend can. The
        model's draft in `drafts`, if any, is loaded beside it (and counted in the fit check).
        """
        upcast, kv_bits, drafts = self.upcast_on_cpu, self.kv_bits, dict(self.drafts)
        return self.submit(lambda: self._lifecycle.load(spec, context, allow_oversize, upcast, kv_bits, drafts))

    def run_with_backend(self, fn: Callable[[Backend | None], T]) -> Future[T]:
        """Run `fn(backend)` on the worker thread (None when no model is loaded)."""
        return self.submit(lambda: fn(self._lifecycle.backend))

    def run_with_model(self, fn: Callable[[Any, Any], T]) -> Future[T]:
        """Run `fn(model, tokenizer)` on the worker thread with the backend's own objects (benchmarks, export)."""
        return self.run_with_backend(lambda b: fn(None, None) if b is None else fn(b.model, b.tokenizer))

    def count_tokens(self, text: str) -> Future[int]:
        """Tokens the loaded model's tokenizer makes of `text` (ModelError when no model is loaded)."""
        from engine.generation.counting import text_tokens

        return self.run_with_backend(lambda backend: text_tokens(backend, text))

    def count_prompt(self, messages: list[Message]) -> Future[int]:
        """Tokens of `messages` as the loaded model's prompt, chat template included (ModelError: no model)."""
        from engine.generation.counting import prompt_tokens

        return self.run_with_backend(lambda backend: prompt_tokens(backend, messages))

    def unload(self) -> Future[None]:
        return self.submit(self._worker.release)

    def chat(
        self,
        messages: list[Message],
        settings: SamplingSettings = SamplingSettings(),
        conversation_id: str | None = "default",
        loop: asyncio.AbstractEventLoop | None = None,
        tools: Sequence[dict[str, Any]] = (),
        augment: Callable[[list[Message]], list[Message]] | None = None,
    ) -> Generation:
        """Queue an answer to `messages`; the conversation's prompt cache is reused across calls.

        With `conversation_id=None` the request belongs to no conversation (an API request): it reuses
        whichever shared cache holds the longest prefix of its prompt. `tools` (OpenAI function definitions)
        are rendered by the chat template; see `tool_format` for how the answer writes calls. `augment`
        rewrites the messages on the worker just before the prompt is made (a question's excerpts from the
        documents, engine/library/retrieval.py), so its model calls queue in order with the answer's.
        """
        from engine.generation.turn import prepare_chat

        def prepare(tokenizer: Any, s: SamplingSettings) -> Any:
            return prepare_chat(tokenizer, augment(messages) if augment else messages, s, tools)

        return self._start(prepare, settings, conversation_id, loop)

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
        answer = AnswerRequest(generation, prepare, settings, conversation_id)
        request = self._channel.submit(lambda: self._worker.answer(answer), tag=answer)
        request.add_done_callback(lambda r: r.cancelled() and finish_early(generation.emit, "cancelled", None))
        return generation

    def _settled(self, generation: Generation) -> None:
        with self._pending_lock:
            self._pending.discard(generation)

    def forget(self, conversation_id: str) -> Future[None]:
        """Drop a conversation's prompt cache, and its file (it was deleted, or will be rebuilt)."""
        return self.submit(lambda: self._worker.forget(conversation_id))

    def set_cache_files_limit(self, limit: int) -> Future[None]:
        """Bytes the prompt-cache files may take (0: none); the least recently used go first to fit."""
        return self.submit(lambda: self._worker.set_cache_files_limit(limit))

    def save_cache_files(self) -> Future[None]:
        """Write the prompt-cache file of every conversation that answered since its last write, now (they are
        otherwise written when the worker is idle, and when the model is released)."""
        return self.submit(self._worker.save_cache_files)

    def clear_cache_files(self) -> Future[None]:
        """Delete every prompt-cache file (the caches in memory stay)."""
        return self.submit(self._worker.clear_cache_files)

    def memory(self) -> MemoryReading:
        """The runtime's counters as of the worker's last step, and the system's memory now. Never calls MLX here."""
        counters = self._worker.counters
        return MemoryReading(counters.active, counters.peak, counters.cache, system_memory(), self._limits.current)

    def activity(self) -> Activity:
        """The answer in progress (stats as of its latest token) and the recent answers. Never calls MLX."""
        return self._worker.activity

    @property
    def batching(self) -> BatchPolicy:
        """When answers run together (set `enabled`, and `draft_model` while a draft model is in use)."""
        return self._worker.batching

    @property
    def kv_room(self) -> KVRoom:
        """The KV cache the loaded model's answers may take together, and whether they batch (plain values)."""
        return self._lifecycle.kv_room

    def batch_status(self) -> BatchStatus:
        """The running batch as of its last step: answers in it, aggregate tok/s, KV bytes. Never calls MLX."""
        return self._worker.batch_status

    def reset_peak_memory(self) -> Future[None]:
        return self.submit(self._worker.reset_peak_memory)

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
        self._channel.close()
        self._stopped.wait()
        gc.collect()
