"""How much KV cache the loaded model's answers may take together: what the memory budget leaves beside the
weights, and what one token of context costs. Measured once per load, on the worker; read from any thread."""

from __future__ import annotations

from dataclasses import dataclass

FLOAT32_BYTES = 4

from engine.models.fit import KV_BYTES_PER_VALUE, memory_budget, runtime_overhead
from engine.models.folder import ModelInfo


@dataclass(frozen=True)
class KVRoom:
    room: int
    """Bytes of KV cache that fit beside the weights and the runtime's overhead (0: none, or no model)."""
    bytes_per_token: int
    """KV-cache bytes one token of context takes, at the cache's precision."""
    batches: bool = False
    """Whether the model's answers run together in one batch (engine/backends/mlx_batch.py's `can_batch`)."""

    def tokens(self) -> int:
        """Tokens of context the room holds, all answers together."""
        return self.room // self.bytes_per_token if self.bytes_per_token else 0


NO_ROOM = KVRoom(0, 0)


def measure(
    info: ModelInfo, resident_weight_bytes: int, kv_bits: int | None, batches: bool, upcast: bool = False
) -> KVRoom:
    """Worker thread only (reads MLX's device info). `upcast`: the model computes in float32 (engine/compute_dtype.py),
    so its keys and values take 4 bytes each."""
    room = memory_budget() - resident_weight_bytes - runtime_overhead(resident_weight_bytes)
    value_bytes = FLOAT32_BYTES if upcast else KV_BYTES_PER_VALUE
    return KVRoom(max(room, 0), info.kv.bytes_per_token_at(info.kv.usable_bits(kv_bits), value_bytes), batches)
