"""What an inference backend is: the one runtime-specific layer under the engine.

A backend is one model loaded on one runtime (MLX today; llama.cpp is the next). It makes, trims and
copies KV caches, prefills and decodes with a stop flag, turns `SamplingSettings` into its own sampler,
and reads its runtime's memory. Everything above it is shared by every backend: the worker thread,
events, stop, settings, context fitting, and the prompt-cache bookkeeping of exact token ids
(engine/generation/prompt_cache.py).

A backend belongs to the thread that loaded it, the engine's worker: MLX streams and arrays belong to
the thread that made them. Every call from another thread raises RuntimeError at once (`WorkerBound`),
rather than failing deep inside the runtime, or working by chance until it doesn't.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from threading import Event as StopFlag
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

if TYPE_CHECKING:
    from engine.compute_dtype import ComputePlan
    from engine.generation.settings import SamplingSettings
    from engine.speculative import DraftStats

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Step:
    """One generated token, as a backend streams it."""

    token: int
    text: str
    """The text this token settles (a detokenizer may hold part of a character back)."""
    finish_reason: Literal["stop", "length"] | None
    """"stop": this token is EOS; "length": it is the last `max_tokens` allows."""
    prompt_tps: float
    generated_tokens: int
    generation_tps: float
    peak_memory: int
    """Bytes, the runtime's peak since the last reset."""
    draft: DraftStats | None = None
    """What the draft model did so far in this answer (None: no draft model ran)."""


@dataclass(frozen=True)
class MemoryCounters:
    """The runtime's allocator, in bytes."""

    active: int
    peak: int
    cache: int


class PrefillStopped(Exception):
    """Raised out of `Backend.generate` when the stop flag is seen during prefill (between two chunks)."""


class Backend(Protocol):
    """One loaded model on one runtime. Call it only on the thread that loaded it."""

    compute_plan: ComputePlan | None
    """How the weights are computed (float32 upcast on a CPU, or as stored); None where it does not apply."""
    resident_weight_bytes: int
    """Bytes the weights take in memory (more than on disk once upcast)."""
    context_limit: int | None
    """The most tokens (prompt + answer) the backend's KV cache holds; None: no hard limit (MLX grows its cache)."""
    kv_bits: int | None
    """The bits its KV cache is quantized to (8, 4); None: full precision."""
    batchable: bool
    """Whether answers can run together in one batch: then `open_batch()` makes one (engine/backends/mlx_batch.py)."""

    @property
    def model(self) -> Any:
        """The runtime's own model object (benchmarks, export)."""

    @property
    def tokenizer(self) -> Any:
        """A Hugging Face style tokenizer: `encode`, `decode`, `apply_chat_template`, `bos_token`, `vocab_size`."""

    def new_cache(self) -> Any:
        """An empty KV cache for this model."""

    def trim_cache(self, kv: Any, n: int) -> bool:
        """Drop the last `n` tokens from `kv`; False (and `kv` untouched) when this cache cannot be trimmed."""

    def copy_cache(self, kv: Any) -> Any:
        """An independent copy of `kv`, to rewind without losing the original."""

    def generate(self, prompt: list[int], kv: Any, settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        """Prefill `prompt` into `kv` (already holding what came before it), then decode.

        Streams one Step per token; the caller ends the stream (closes it) to stop decoding. Raises
        PrefillStopped when `stop` is set during prefill. Afterwards `kv` holds the prompt and every
        token fed back to the model.
        """

    def memory(self) -> MemoryCounters: ...

    def reset_peak_memory(self) -> None: ...

    def release(self) -> MemoryCounters:
        """Free the model and hand its memory back; the runtime's memory afterwards. The backend is unusable after."""


class WorkerBound:
    """Remembers the thread that made it; `worker_only` methods refuse to run on any other."""

    def __init__(self) -> None:
        self._owner = threading.get_ident()

    def check_thread(self, what: str) -> None:
        if threading.get_ident() != self._owner:
            raise RuntimeError(
                f"{type(self).__name__}.{what} called from thread {threading.current_thread().name!r}: a backend runs "
                "only on the engine's worker thread that loaded it (submit the work through the Engine)"
            )


def worker_only(method: F) -> F:
    """Make `method` of a WorkerBound raise RuntimeError when called off its thread."""

    @functools.wraps(method)
    def checked(self: WorkerBound, *args: Any, **kwargs: Any) -> Any:
        self.check_thread(method.__name__)
        return method(self, *args, **kwargs)

    return checked  # type: ignore[return-value]
