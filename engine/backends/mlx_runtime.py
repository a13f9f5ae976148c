"""What every backend on MLX does alike (mlx_lm's text models and mlx-vlm's vision models): hand out its model and
tokenizer, trim and copy a list of mlx_lm cache layers, and read MLX's allocator."""

from __future__ import annotations

import copy
from typing import Any

import mlx.core as mx
from mlx_lm.models.cache import can_trim_prompt_cache, trim_prompt_cache

from engine.backends.base import MemoryCounters, WorkerBound, worker_only


def read_counters() -> MemoryCounters:
    return MemoryCounters(mx.get_active_memory(), mx.get_peak_memory(), mx.get_cache_memory())


class MLXRuntime(WorkerBound):
    """The MLX half of a backend; subclasses load a model (into `_model`, `_tokenizer`) and generate."""

    _model: Any
    _tokenizer: Any

    @property
    @worker_only
    def model(self) -> Any:
        return self._model

    @property
    @worker_only
    def tokenizer(self) -> Any:
        return self._tokenizer

    @worker_only
    def trim_cache(self, kv: list[Any], n: int) -> bool:
        if not can_trim_prompt_cache(kv):
            return False
        trim_prompt_cache(kv, n)
        return True

    @worker_only
    def copy_cache(self, kv: list[Any]) -> list[Any]:
        return copy.deepcopy(kv)

    @worker_only
    def memory(self) -> MemoryCounters:
        return read_counters()

    @worker_only
    def reset_peak_memory(self) -> None:
        mx.reset_peak_memory()
