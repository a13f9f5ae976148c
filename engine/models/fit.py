"""Will a model fit in this Mac's memory? Weights + KV cache at a context length + runtime headroom, against
the memory MLX may use: Metal's recommended working set on Apple Silicon, about 3/4 of RAM elsewhere."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from enum import Enum

from engine.memory import format_bytes, system_memory

DEFAULT_CONTEXT = 8192
KV_BYTES_PER_VALUE = 2  # mlx_lm keeps the KV cache in float16/bfloat16
KV_BITS = (8, 4)
"""The quantized KV caches Cabin offers (mlx_lm's QuantizedKVCache); None is full precision."""
KV_GROUP_SIZES = (64, 32)
"""mlx_lm's default group size for a quantized KV cache, then the smaller one mx.quantize also takes."""
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
        return self.bytes_per_token_at(None)

    @property
    def group_size(self) -> int | None:
        """The group size a quantized cache uses for this head size; None: none divides it (no quantized cache)."""
        return next((g for g in KV_GROUP_SIZES if self.head_dim and self.head_dim % g == 0), None)

    def usable_bits(self, bits: int | None) -> int | None:
        """`bits` when this model's cache can be quantized to them, else None (full precision)."""
        return bits if bits is not None and self.group_size is not None else None

    def bytes_per_token_at(self, bits: int | None, value_bytes: int = KV_BYTES_PER_VALUE) -> int:
        """Per token, as mlx_lm stores it: `value_bytes` a value at full precision; quantized (QuantizedKVCache),
        `bits` a value packed in uint32 words plus a scale and a bias of `value_bytes` per group."""
        bits, group = self.usable_bits(bits), self.group_size
        if bits is None or group is None:
            per_vector = self.head_dim * value_bytes
        else:
            per_vector = self.head_dim * bits // 8 + 2 * (self.head_dim // group) * value_bytes
        return 2 * self.layers * self.kv_heads * per_vector

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
    kv_bits: int | None = None
    """The KV cache counted quantized to these bits; None: full precision."""

    def describe(self) -> str:
        kv = f"{self.kv_bits}-bit KV cache" if self.kv_bits else "KV cache"
        return (
            f"needs ~{format_bytes(self.needed)} (weights {format_bytes(self.weights)} + {kv} "
            f"{format_bytes(self.kv_cache)} at {self.context:,} tokens + headroom) of ~{format_bytes(self.budget)} usable"
        )


def runtime_overhead(weights: int) -> int:
    """Activations, logits and allocator slack: a tenth of the weights, at least 256 MB."""
    return max(MIN_OVERHEAD, weights // 10)


def assess(weights: int, kv: KVShape, context: int, budget: int, kv_bits: int | None = None) -> Fit:
    """`kv_bits`: the KV cache quantized to 8 or 4 bits (counted smaller when the model's cache can be quantized)."""
    kv_bits = kv.usable_bits(kv_bits)
    kv_cache = kv.bytes_per_token_at(kv_bits) * context
    needed = weights + kv_cache + runtime_overhead(weights)
    if needed <= budget * TIGHT_FRACTION:
        verdict = Verdict.FITS
    elif needed <= budget:
        verdict = Verdict.TIGHT
    else:
        verdict = Verdict.WONT_FIT
    return Fit(verdict, needed, budget, weights, kv_cache, context, kv_bits)


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
