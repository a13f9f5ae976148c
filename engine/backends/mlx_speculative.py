"""Speculative decoding on MLX: mlx_lm's `stream_generate(draft_model=...)`, with what the engine needs around it.

The cache of a model with a draft is one list, the model's layers then the draft's, as mlx_lm's
`speculative_generate_step` and its server take it. Three things are added here:

- Prefill in chunks with the stop flag checked between them: mlx_lm drops `prompt_progress_callback` when it
  drafts, so both caches are prefilled here (as generate_step would, but for both models) and mlx_lm gets only
  the prompt's last token.
- Both caches end holding exactly the prompt and every streamed token, as the engine's prompt-cache
  bookkeeping expects of every backend (engine/generation/prompt_cache.py). mlx_lm rewinds after a rejected
  draft, but where its stream is closed the model may lack the last token it chose and the draft one or two
  more: `catch_up` feeds them.
- The draft's counts (proposed, accepted) for the answer's stats.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from threading import Event as StopFlag
from typing import Any

import mlx.core as mx
from mlx_lm import stream_generate
from mlx_lm.models.cache import trim_prompt_cache

from engine.backends.base import PrefillStopped, Step
from engine.speculative import DraftStats

Part = tuple[Any, list[Any]]
"""(a model, its layers of the cache)."""


def offset(cache: list[Any]) -> int:
    """Tokens a (trimmable) cache holds."""
    return cache[0].offset


def prefill(model: Any, cache: list[Any], tokens: list[int], step: int, stop: StopFlag) -> None:
    """Feed `tokens` to the model in chunks of `step`; PrefillStopped when `stop` is set between two."""
    for start in range(0, len(tokens), step):
        if stop.is_set():
            raise PrefillStopped
        model(mx.array(tokens[start : start + step])[None], cache=cache)
        mx.eval([c.state for c in cache])


def catch_up(model: Any, cache: list[Any], tokens: list[int], start: int) -> None:
    """Make `cache` hold exactly what it held at `start` tokens plus `tokens`: trim what it holds beyond, feed what
    it lacks."""
    have, want = offset(cache), start + len(tokens)
    if have > want:
        trim_prompt_cache(cache, have - want)
    elif have < want:
        model(mx.array(tokens[have - start :])[None], cache=cache)
        mx.eval([c.state for c in cache])


class DraftCounter:
    """Counts the draft's proposals as mlx_lm makes them: each round drafts min(num_draft_tokens, tokens left),
    and a round ends with the model's own token (not from the draft)."""

    def __init__(self, num_draft_tokens: int, max_tokens: int, baseline_tps: float) -> None:
        self._k, self._left, self._baseline = num_draft_tokens, max_tokens, baseline_tps
        self._new_round = True
        self.stats = DraftStats(baseline_tps=baseline_tps)

    def add(self, from_draft: bool) -> DraftStats:
        proposed = min(self._k, self._left) if self._new_round else 0
        self._left -= 1
        self._new_round = not from_draft
        s = self.stats
        self.stats = DraftStats(s.proposed + proposed, s.accepted + from_draft, self._baseline)
        return self.stats


def kept_in_step(steps: Iterator[Step], parts: list[Part], prompt: list[int], start: int) -> Iterator[Step]:
    """Pass `steps` through; once they end or are closed, bring every part's cache to `start` + the prompt + every
    token streamed. Not after a failure: the engine drops the cache then."""
    fed: list[int] = []
    try:
        for step in steps:
            fed.append(step.token)
            yield step
    except GeneratorExit:
        steps.close()
        _catch_up_all(parts, prompt + fed, start)
        raise
    steps.close()
    _catch_up_all(parts, prompt + fed, start)


def _catch_up_all(parts: list[Part], tokens: list[int], start: int) -> None:
    for model, cache in parts:
        catch_up(model, cache, tokens, start)


def speculative_responses(
    model: Any, tokenizer: Any, draft: Any, prompt: list[int], kv: list[Any], stop: StopFlag, prefill_step: int,
    **generate_args: Any,
) -> Iterator[Step]:
    """Steps of mlx_lm's speculative decoding for `prompt` (≥ 1 token) into `kv` (the model's layers, then the
    draft's), each carrying the draft's counts so far; nothing runs before the first step is asked for.
    `generate_args`: stream_generate's (max_tokens, sampler...)."""
    layers = len(model.layers)
    main, drafts = kv[:layers], kv[layers:]
    started = time.perf_counter()
    prefill(model, main, prompt[:-1], prefill_step, stop)
    prefill(draft.model, drafts, prompt[:-1], prefill_step, stop)
    responses = stream_generate(model, tokenizer, prompt[-1:], draft_model=draft.model,
                                num_draft_tokens=draft.num_draft_tokens, prompt_cache=kv, **generate_args)  # fmt: skip
    counter = DraftCounter(draft.num_draft_tokens, generate_args["max_tokens"], draft.baseline_tps)
    yield from _steps(responses, counter, len(prompt), started)


def _steps(responses: Iterator[Any], counter: DraftCounter, prompt_len: int, started: float) -> Iterator[Step]:
    prompt_tps = 0.0
    try:
        for response in responses:
            prompt_tps = prompt_tps or prompt_len / (time.perf_counter() - started)
            yield Step(response.token, response.text, response.finish_reason, prompt_tps, response.generation_tokens,
                       response.generation_tps, mx.get_peak_memory(), counter.add(response.from_draft))  # fmt: skip
    finally:
        responses.close()
