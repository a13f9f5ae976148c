"""A draft model for speculative decoding on MLX: loaded beside the model on the worker thread, checked to
share its tokenizer, with its own KV cache kept in step with the model's (engine/backends/mlx_speculative.py)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten
from mlx_lm.generate import generate_step
from mlx_lm.models.cache import KVCache, can_trim_prompt_cache, make_prompt_cache

from engine.compute_dtype import apply_compute_policy, float32_fit
from engine.errors import ModelError
from engine.models.fit import memory_budget
from engine.models.folder import ModelInfo
from engine.models.loading import load_model
from engine.speculative import DraftChoice

BASELINE_TOKENS = 16
"""Decode steps timed, after two untimed ones, to know the model's speed without its draft."""


@dataclass
class Draft:
    """A loaded draft model. Worker thread only."""

    model: Any
    name: str
    num_draft_tokens: int
    kv_bits: int | None
    kv_group_size: int
    resident_weight_bytes: int
    baseline_tps: float = 0.0
    """The target model's decode tok/s without this draft (`measure_baseline`)."""

    def new_cache(self) -> list[Any]:
        return quantized_cache(make_prompt_cache(self.model), self.kv_bits, self.kv_group_size)


def quantized_cache(cache: list[Any], bits: int | None, group_size: int) -> list[Any]:
    """Each plain KVCache layer as a QuantizedKVCache of `bits` (while still empty); None: as it is."""
    if bits is None:
        return cache
    return [c.to_quantized(group_size, bits) if type(c) is KVCache else c for c in cache]


def refuse_unless_rewindable(model: Any, target_name: str) -> None:
    """One ModelError line when the model's cache cannot be trimmed, which rewinding a rejected draft needs."""
    if not can_trim_prompt_cache(make_prompt_cache(model)):
        raise ModelError(f"{target_name} cannot use a draft model: its KV cache cannot be rewound "
                         "(sliding-window or recurrent layers), which speculative decoding needs")  # fmt: skip


def load_draft(
    choice: DraftChoice, info: ModelInfo, target: tuple[Any, str], context: int, upcast_on_cpu: bool,
    kv_bits: int | None,
) -> Draft:
    """Load `info` as the draft of the target (model, name), whose vocabulary engine/models/draft.py checked;
    refused in one line when the target's cache cannot be rewound. Its weights are computed as the target's policy
    says (float32 on the CPU backend when that fits); its KV cache is quantized to `kv_bits` when its head size
    allows."""
    model, name = target
    refuse_unless_rewindable(model, name)
    draft_model, _tokenizer = load_model(info)
    apply_compute_policy(draft_model, float32_fit(info, context, memory_budget()), upcast_on_cpu)
    resident = sum(v.nbytes for _, v in tree_flatten(draft_model.parameters()))
    bits = info.kv.usable_bits(kv_bits)
    return Draft(draft_model, info.name, choice.num_draft_tokens, bits, info.kv.group_size or 64, resident)


def measure_baseline(model: Any, cache: list[Any]) -> float:
    """The model's decode tok/s alone, from a short greedy run into `cache` (a fresh cache of its own)."""
    steps = generate_step(mx.array([0]), model, max_tokens=BASELINE_TOKENS + 2, prompt_cache=cache)
    next(steps), next(steps)
    start = time.perf_counter()
    for _ in steps:
        pass
    return BASELINE_TOKENS / (time.perf_counter() - start)
