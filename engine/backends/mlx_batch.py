"""Continuous batching on the MLX backend: mlx_lm's BatchGenerator, with Cabin's per-answer settings.

Answers join (`join`) and leave (`leave`, or by finishing) between two steps; each `step` decodes one token for
every answer in the decode batch and prefills one chunk of the answers still reading their prompt. Each answer
keeps its own sampler, penalties, grammar, `max_tokens` and detokenizer, and brings its prompt cache: the KV of
its cached prefix goes in with it (mlx_lm merges it into the batch's cache, a copy) and comes back out, as a
per-answer cache, when it leaves.

What mlx_lm's batch cannot do (those answers run alone, after the batch): a quantized KV cache (QuantizedKVCache
has no `merge`), models whose cache layers cannot merge, a draft model, and a seed (one random stream serves the
whole batch, so a seeded answer would not be reproducible).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import mlx.core as mx
from mlx_lm.generate import BatchGenerator, StopSequences
from mlx_lm.models.cache import make_prompt_cache

from engine.backends.base import Step
from engine.backends.mlx import PREFILL_STEP, logits_processors, sampler
from engine.generation.batch_policy import DECODE_BATCH
from engine.generation.settings import SamplingSettings

PREFILL_BATCH = 8
"""Answers whose prompts are prefilled together at most (mlx_lm's server default)."""


def can_batch(model: Any, kv_bits: int | None) -> bool:
    """Whether mlx_lm can batch this model's cache: every layer merges, and the cache is not quantized."""
    return kv_bits is None and all(hasattr(layer, "merge") for layer in make_prompt_cache(model))


@dataclass
class _Member:
    """One answer in the batch: what its Steps need besides the token."""

    detokenizer: Any
    prompt_tokens: int
    joined: float
    first_token_at: float = 0.0
    prompt_tps: float = 0.0
    generated: int = 0


@dataclass(frozen=True)
class Left:
    """An answer that left the batch (finished or removed): the cache it leaves with, holding its prompt and every
    token it was given."""

    uid: int
    kv: list[Any]


class MLXBatch:
    """A running batch on one MLX model. Worker thread only (made and stepped there)."""

    def __init__(self, model: Any, tokenizer: Any) -> None:
        self._tokenizer = tokenizer
        self._generator = BatchGenerator(
            model, completion_batch_size=DECODE_BATCH, prefill_batch_size=PREFILL_BATCH, prefill_step_size=PREFILL_STEP
        )
        self._stop_tokens = StopSequences([[t] for t in tokenizer.eos_token_ids])
        self._members: dict[int, _Member] = {}
        self._samplers: dict[tuple[float, float, float, int], Any] = {}

    def __len__(self) -> int:
        return len(self._members)

    def join(self, prompt: list[int], kv: list[Any], settings: SamplingSettings) -> int:
        """Queue an answer to `prompt` (the ids not yet in `kv`, at least one); its uid. It starts prefilling at the
        next step."""
        (uid,) = self._generator.insert(
            [prompt],
            max_tokens=[settings.max_tokens],
            caches=[kv],
            samplers=[self._sampler(settings)],
            logits_processors=[logits_processors(settings, self._tokenizer)],
            stop_sequences=[self._stop_tokens],
        )
        self._members[uid] = _Member(self._tokenizer.detokenizer, len(prompt), time.perf_counter())
        return uid

    def _sampler(self, settings: SamplingSettings) -> Any:
        """One sampler object per distinct setting, so answers that sample alike are sampled in one call."""
        key = (settings.temperature, settings.top_p, settings.min_p, settings.top_k)
        if key not in self._samplers:
            self._samplers[key] = sampler(settings, self._tokenizer.vocab_size)
        return self._samplers[key]

    def step(self) -> tuple[list[tuple[int, Step]], list[Left]]:
        """One step of the batch: the tokens it made (uid, Step), and the answers that finished with it."""
        _, responses = self._generator.next()
        steps, left = [], []
        for response in responses:
            steps.append((response.uid, self._step_of(response)))
            if response.finish_reason is not None:
                del self._members[response.uid]
                left.append(Left(response.uid, response.prompt_cache))
        return steps, left

    def _step_of(self, response: Any) -> Step:
        member = self._members[response.uid]
        now = time.perf_counter()
        if member.generated == 0:
            member.first_token_at = now
            member.prompt_tps = member.prompt_tokens / max(now - member.joined, 1e-9)
        member.generated += 1
        detokenizer = member.detokenizer
        if response.finish_reason != "stop":
            detokenizer.add_token(response.token)
        if response.finish_reason is not None:
            detokenizer.finalize()
        elapsed = now - member.first_token_at
        tps = (member.generated - 1) / elapsed if elapsed > 0 else 0.0
        return Step(
            response.token, detokenizer.last_segment, response.finish_reason, member.prompt_tps, member.generated,
            tps, mx.get_peak_memory(),
        )

    def leave(self, uid: int) -> Left:
        """Take an answer out of the batch before it finished (stopped, or its client went away)."""
        extracted = self._generator.remove([uid], return_prompt_caches=True)
        self._members.pop(uid, None)
        kv, _tokens = extracted[uid]
        return Left(uid, kv)

    @property
    def kv_bytes(self) -> int:
        """Bytes of the KV caches in the batch (queued answers' prefixes included)."""
        return self._generator.prompt_cache_nbytes

    def close(self) -> None:
        self._generator.close()
