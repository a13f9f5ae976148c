"""The MLX backend: a model folder of safetensors run by mlx_lm, on MLX's GPU (Metal) or CPU backend."""

from __future__ import annotations

from collections.abc import Iterator
from threading import Event as StopFlag
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten
from mlx_lm import stream_generate
from mlx_lm.models.cache import make_prompt_cache
from mlx_lm.sample_utils import make_logits_processors, make_sampler

from engine.allocator import return_freed_memory
from engine.backends.base import MemoryCounters, PrefillStopped, Step, worker_only
from engine.backends.mlx_draft import Draft, load_draft, measure_baseline, quantized_cache
from engine.backends.mlx_runtime import MLXRuntime, read_counters
from engine.backends.mlx_grammar import GrammarProcessor
from engine.backends.mlx_speculative import catch_up, kept_in_step, offset, speculative_responses
from engine.compute_dtype import ComputePlan, apply_compute_policy, float32_fit
from engine.generation.settings import SamplingSettings
from engine.models.fit import memory_budget
from engine.models.folder import ModelInfo
from engine.models.loading import load_model
from engine.speculative import DraftChoice, DraftStats

PREFILL_STEP = 512
"""Prefill chunk size: a stop request during prefill is seen after at most this many tokens."""


def sampler(settings: SamplingSettings, vocab_size: int) -> Any:
    """A top_k of the whole vocabulary or more keeps every token: the same as no top_k (mlx would fail on it)."""
    top_k = settings.top_k if settings.top_k < vocab_size else 0
    return make_sampler(temp=settings.temperature, top_p=settings.top_p, min_p=settings.min_p, top_k=top_k)


def logits_processors(settings: SamplingSettings, tokenizer: Any) -> list[Any]:
    """The penalties, then the grammar's mask (last, so that nothing lifts a forbidden token back)."""
    penalty = None if settings.repetition_penalty == 1.0 else settings.repetition_penalty
    # OpenAI's presence and frequency penalties look at everything generated so far, not a short window.
    processors = make_logits_processors(
        repetition_penalty=penalty,
        presence_penalty=settings.presence_penalty,
        presence_context_size=settings.max_tokens,
        frequency_penalty=settings.frequency_penalty,
        frequency_context_size=settings.max_tokens,
    )
    if settings.grammar is not None:
        processors.append(GrammarProcessor(settings.grammar, tokenizer))
    return processors


class MLXBackend(MLXRuntime):
    """A model loaded with mlx_lm. Made by `load`, on the thread that will use it."""

    context_limit = None

    def __init__(
        self, model: Any, tokenizer: Any, compute_plan: ComputePlan, kv_bits: int | None = None, kv_group_size: int = 64,
        draft: Draft | None = None,
    ) -> None:
        super().__init__()
        self._model, self._tokenizer = model, tokenizer
        self.compute_plan: ComputePlan | None = compute_plan
        self.kv_bits, self.kv_group_size = kv_bits, kv_group_size
        """8 or 4: every new cache is mlx_lm's QuantizedKVCache (engine/models/fit.py sizes it); None: full precision."""
        self.draft = draft
        """The draft model for speculative decoding (engine/backends/mlx_speculative.py); its cache layers follow
        the model's in every cache."""
        self.resident_weight_bytes = sum(v.nbytes for _, v in tree_flatten(model.parameters())) + (
            draft.resident_weight_bytes if draft else 0
        )
        from engine.backends.mlx_batch import can_batch

        self.batchable = can_batch(model, kv_bits)
        """Whether answers can run together in one batch (`open_batch`)."""

    @classmethod
    def load(
        cls, info: ModelInfo, context: int, upcast_on_cpu: bool, kv_bits: int | None = None,
        draft: tuple[DraftChoice, ModelInfo] | None = None,
    ) -> MLXBackend:
        """Load a validated model folder; on MLX's CPU backend upcast it to float32 when that fits (compute_dtype).
        `kv_bits` must suit the model's head size (`info.kv.usable_bits`). With a `draft` (an MLX folder with the same
        vocabulary, engine/models/draft.py), load it too and time the model alone for the speedup."""
        model, tokenizer = load_model(info)
        plan = apply_compute_policy(model, float32_fit(info, context, memory_budget()), upcast_on_cpu)
        loaded = load_draft(*draft, (model, info.name), context, upcast_on_cpu, kv_bits) if draft else None
        backend = cls(model, tokenizer, plan, kv_bits, info.kv.group_size or 64, loaded)
        if loaded is not None:
            loaded.baseline_tps = measure_baseline(model, backend.target_cache(backend.new_cache()))
        return_freed_memory()  # what loading and the float32 upcast used on the way
        return backend

    @worker_only
    def new_cache(self) -> list[Any]:
        """The model's cache; with `kv_bits`, each plain KVCache layer becomes a QuantizedKVCache (mlx_lm's
        `to_quantized`) while still empty.

        mlx_lm's own `kv_bits` path (`maybe_quantize_kv_cache` in generate_step) converts a full-precision
        cache after the first prefill chunk (and, by default, only past 5,000 tokens), so the first chunk
        attends to full-precision keys: a turn prefilled in one go and the same turn continuing a cached
        conversation would see different keys. Quantizing from the first token makes every prefill, cached
        or not, attend to the same quantized keys. Sliding-window layers (RotatingKVCache) stay at full
        precision: mlx_lm cannot quantize them.
        """
        cache = quantized_cache(make_prompt_cache(self._model), self.kv_bits, self.kv_group_size)
        return cache + self.draft.new_cache() if self.draft is not None else cache

    def target_cache(self, kv: list[Any]) -> list[Any]:
        """The model's own layers of `kv` (all of it without a draft): what to run the model alone on, as
        batched requests do (the draft then falls behind: `catch_up_draft` afterwards)."""
        return kv[: len(self._model.layers)]

    @worker_only
    def catch_up_draft(self, kv: list[Any], tokens: list[int]) -> None:
        """After the model ran alone on `target_cache(kv)`: feed the draft's layers what they lack of `tokens`,
        every id `kv` holds (a ConversationCache's `tokens`), so the next answer can draft again."""
        if self.draft is not None:
            catch_up(self.draft.model, kv[len(self._model.layers) :], tokens, 0)

    @worker_only
    def generate(self, prompt: list[int], kv: list[Any], settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        if settings.seed is not None:
            mx.random.seed(settings.seed)

        args = dict(max_tokens=settings.max_tokens, sampler=sampler(settings, self._tokenizer.vocab_size),
                    logits_processors=logits_processors(settings, self._tokenizer))  # fmt: skip
        if self.draft is not None:
            return self._speculative(prompt, kv, settings, stop, args)
        return self._steps(self._alone(prompt, kv, stop, args))

    def _speculative(
        self, prompt: list[int], kv: list[Any], settings: SamplingSettings, stop: StopFlag, args: dict[str, Any]
    ) -> Iterator[Step]:
        """With the draft; under a grammar without it (its matcher cannot step back from a rejected draft token),
        its cache still kept in step."""
        target = self.target_cache(kv)
        parts = [(self._model, target), (self.draft.model, kv[len(target) :])]
        if settings.grammar is not None:
            steps = self._steps(self._alone(prompt, target, stop, args), DraftStats.unused("a grammar constrains this answer"))
        else:
            steps = speculative_responses(self._model, self._tokenizer, self.draft, prompt, kv, stop, PREFILL_STEP, **args)
        return kept_in_step(steps, parts, prompt, offset(target))

    def _alone(self, prompt: list[int], kv: list[Any], stop: StopFlag, args: dict[str, Any]) -> Iterator[Any]:
        """mlx_lm's stream of the model alone, its prefill stopped between chunks by `stop`."""

        def check_stop(_done: int, _total: int) -> None:
            if stop.is_set():
                raise PrefillStopped

        return stream_generate(self._model, self._tokenizer, prompt, prompt_cache=kv, prefill_step_size=PREFILL_STEP,
                               prompt_progress_callback=check_stop, **args)  # fmt: skip

    def _steps(self, responses: Iterator[Any], draft: DraftStats | None = None) -> Iterator[Step]:
        try:
            for response in responses:
                self.check_thread("generate")
                yield Step(
                    response.token,
                    response.text,
                    response.finish_reason,
                    response.prompt_tps,
                    response.generation_tokens,
                    response.generation_tps,
                    mx.get_peak_memory(),
                    draft,
                )
        finally:
            responses.close()

    @worker_only
    def open_batch(self) -> Any:
        """A new running batch on this model (engine/backends/mlx_batch.py's MLXBatch); only when `batchable`."""
        from engine.backends.mlx_batch import MLXBatch

        return MLXBatch(self._model, self._tokenizer)

    @worker_only
    def release(self) -> MemoryCounters:
        """Free the model by dropping the references to it: nothing holds its arrays in a reference cycle, so no
        collector pass is needed (a full one holds the GIL ~0.2 s once mlx_lm, transformers and torch are in)."""
        self._model = self._tokenizer = self.draft = None
        mx.clear_cache()
        return_freed_memory()
        return read_counters()
