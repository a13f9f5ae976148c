"""How much KV cache the loaded model's answers may take together: what the memory budget leaves beside the
weights, and what one token of context costs. Measured once per load, on the worker; read from any thread."""

from __future__ import annotations

from dataclasses import dataclass

from engine.models.fit import memory_budget, runtime_overhead
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


def measure(info: ModelInfo, resident_weight_bytes: int, kv_bits: int | None, batches: bool) -> KVRoom:
    """Worker thread only (reads MLX's device info)."""
    room = memory_budget() - resident_weight_bytes - runtime_overhead(resident_weight_bytes)
    return KVRoom(max(room, 0), info.kv.bytes_per_token_at(info.kv.usable_bits(kv_bits)), batches)
