"""What the KV-cache setting saves: the loaded model's KV cache at the context length, full precision vs quantized.

The numbers are the fit check's (engine/models/fit.py), at the precision the loaded model computes in: float32
when the CPU backend upcast it (its KV cache is float32 too), else 16-bit.
"""

from __future__ import annotations

from engine.backends import backend_name
from engine.memory import format_bytes
from engine.models.fit import KV_BITS
from engine.models.folder import ModelInfo

FLOAT32_BYTES, HALF_BYTES = 4, 2


def kv_cache_tokens(info: ModelInfo, context_length: int) -> int:
    """The context the KV cache is planned for: the setting, never more than the model takes."""
    return min(context_length, info.context_length or context_length)


def kv_cache_text(info: ModelInfo | None, context_length: int, bits: int | None, float32: bool = False) -> str:
    """One line for Preferences: "KV cache at 4,096 tokens: 94.4 MB → 26.5 MB (4-bit, 28% of full precision)"."""
    if info is None:
        return "Load a model to see what its KV cache takes at the context length."
    tokens = kv_cache_tokens(info, context_length)
    value_bytes = FLOAT32_BYTES if float32 else HALF_BYTES

    def size(b: int | None) -> str:
        return format_bytes(info.kv.bytes_per_token_at(b, value_bytes) * tokens)

    head = f"{info.name}: KV cache at {tokens:,} tokens" + (" (float32 on this CPU)" if float32 else "")
    if backend_name(info) != "MLX":
        return f"{head}: {size(None)}. It runs on llama.cpp, which keeps its KV cache at full precision."
    if info.kv.group_size is None:
        return f"{head}: {size(None)}. Its head size ({info.kv.head_dim}) cannot be quantized: full precision."
    if bits is None:
        return f"{head}: {size(None)} (" + ", ".join(f"{b}-bit: {size(b)}" for b in KV_BITS) + ")."
    share = info.kv.bytes_per_token_at(bits, value_bytes) / info.kv.bytes_per_token_at(None, value_bytes)
    return f"{head}: {size(None)} → {size(bits)} ({bits}-bit, {share:.0%} of full precision)."
