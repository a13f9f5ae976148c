"""Will a model fit in this Mac's memory? Weights + KV cache at a context length + runtime headroom, against
the memory MLX may use: Metal's recommended working set on Apple Silicon, about 3/4 of RAM elsewhere."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum

from engine.memory import format_bytes, system_memory

DEFAULT_CONTEXT = 8192
KV_BYTES_PER_VALUE = 2  # mlx_lm keeps the KV cache in float16/bfloat16
TIGHT_FRACTION = 0.85  # above this share of the budget, other apps and long answers start to squeeze
NON_METAL_BUDGET_FRACTION = 0.75  # roughly what Metal recommends on a Mac with 16-64 GB
MIN_OVERHEAD = 256 * 1024**2


class Verdict(Enum):
    FITS = "fits"
    TIGHT = "tight"
    WONT_FIT = "won't fit"


@dataclass(frozen=True)
class KVShape:
    """What sizes the KV cache: per token, a key and a value of kv_heads × head_dim per layer."""

    layers: int
    kv_heads: int
    head_dim: int

    @property
    def bytes_per_token(self) -> int:
        return 2 * self.layers * self.kv_heads * self.head_dim * KV_BYTES_PER_VALUE

    @classmethod
    def from_config(cls, config: dict) -> KVShape:
        """Read from a config.json (vision models keep the language model's under text_config)."""
        if "num_hidden_layers" not in config:
            config = config.get("text_config", config)
        heads = config.get("num_attention_heads", 1)
        head_dim = config.get("head_dim") or config.get("hidden_size", 0) // max(heads, 1)
        return cls(config.get("num_hidden_layers", 0), config.get("num_key_value_heads", heads), head_dim)


@dataclass(frozen=True)
class Fit:
    verdict: Verdict
    needed: int
    budget: int
    weights: int
    kv_cache: int
    context: int

    def describe(self) -> str:
        return (
            f"needs ~{format_bytes(self.needed)} (weights {format_bytes(self.weights)} + KV cache "
            f"{format_bytes(self.kv_cache)} at {self.context:,} tokens + headroom) of ~{format_bytes(self.budget)} usable"
        )


def runtime_overhead(weights: int) -> int:
    """Activations, logits and allocator slack: a tenth of the weights, at least 256 MB."""
    return max(MIN_OVERHEAD, weights // 10)


def assess(weights: int, kv: KVShape, context: int, budget: int) -> Fit:
    kv_cache = kv.bytes_per_token * context
    needed = weights + kv_cache + runtime_overhead(weights)
    if needed <= budget * TIGHT_FRACTION:
        verdict = Verdict.FITS
    elif needed <= budget:
        verdict = Verdict.TIGHT
    else:
        verdict = Verdict.WONT_FIT
    return Fit(verdict, needed, budget, weights, kv_cache, context)


def budget_from(platform: str, device_info: dict, total_memory: int) -> int:
    """The bytes MLX can use: Metal's `max_recommended_working_set_size` on macOS, else a share of RAM."""
    recommended = device_info.get("max_recommended_working_set_size")
    if platform == "darwin" and recommended:
        return int(recommended)
    return int(total_memory * NON_METAL_BUDGET_FRACTION)


def memory_budget() -> int:
    """This machine's budget. Calls `mx.device_info()`: run it on the engine's worker thread (or with no engine)."""
    import mlx.core as mx

    return budget_from(sys.platform, dict(mx.device_info()), system_memory().total)
