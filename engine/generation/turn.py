"""One answer: render the chat template, reuse the prompt cache, stream tokens with mlx_lm. Worker thread only."""

from __future__ import annotations

import time
from collections.abc import Callable
from threading import Event as StopFlag
from typing import Any

import mlx.core as mx
from mlx_lm import stream_generate

from engine.generation.context_window import fit_to_context
from engine.generation.events import Event, Finished, FinishReason, Stats, Token
from engine.generation.prompt_cache import ConversationCache
from engine.generation.settings import SamplingSettings

Message = dict[str, str]
PREFILL_STEP = 512
"""Prefill chunk size: a stop request during prefill is seen after at most this many tokens."""


class Cancelled(Exception):
    pass


def render_prompt(tokenizer: Any, messages: list[Message]) -> str:
    """The conversation as the model's chat template writes it, ending with the assistant's turn."""
    if getattr(tokenizer, "chat_template", None):
        return tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
    lines = [f"{m['role'].capitalize()}: {m['content']}" for m in messages]
    return "\n".join(lines) + "\nAssistant:"


class _Turn:
    """Collects the streamed responses of one answer into text, ids and stats."""

    def __init__(self, prompt_len: int, prefill_len: int, started: float, dropped: int) -> None:
        self.prompt_len, self.prefill_len, self.started, self.dropped = prompt_len, prefill_len, started, dropped
        self.pieces: list[str] = []
        self.fed: list[int] = []
        self.ttft = 0.0
        self.stats = Stats(prompt_len, prefill_len, 0.0, 0, 0.0, 0.0, mx.get_peak_memory(), dropped)

    def add(self, response: Any) -> None:
        if not self.fed:
            self.ttft = time.perf_counter() - self.started
        self.pieces.append(response.text)
        self.fed.append(response.token)
        self.stats = Stats(
            prompt_tokens=self.prompt_len,
            prefilled_tokens=self.prefill_len,
            prompt_tps=response.prompt_tps,
            generated_tokens=response.generation_tokens,
            generation_tps=response.generation_tps,
            ttft=self.ttft,
            peak_memory=mx.get_peak_memory(),
            dropped_messages=self.dropped,
        )

    @property
    def text(self) -> str:
        return "".join(self.pieces)


def fit_messages(
    tokenizer: Any, cache: ConversationCache, messages: list[Message], settings: SamplingSettings
) -> tuple[list[Message], int, int]:
    """(messages that fit the context length, the answer's token budget, messages left out)."""
    if settings.context_length is None:
        return messages, settings.max_tokens, 0

    def count(candidate: list[Message]) -> int:
        return len(cache.prompt_ids(tokenizer, render_prompt(tokenizer, candidate)))

    fitted = fit_to_context(messages, count, settings.context_length, settings.max_tokens)
    return fitted.messages, fitted.max_tokens, fitted.dropped


def run_turn(
    model: Any,
    tokenizer: Any,
    cache: ConversationCache,
    messages: list[Message],
    settings: SamplingSettings,
    stop: StopFlag,
    emit: Callable[[Event], None],
) -> Finished:
    started = time.perf_counter()
    messages, max_tokens, dropped = fit_messages(tokenizer, cache, messages, settings)
    rendered = render_prompt(tokenizer, messages)
    prompt = cache.prompt_ids(tokenizer, rendered)
    to_prefill = cache.rewind_to(prompt)
    turn = _Turn(len(prompt), len(to_prefill), started, dropped)
    if settings.seed is not None:
        mx.random.seed(settings.seed)

    def check_stop(_done: int, _total: int) -> None:
        if stop.is_set():
            raise Cancelled

    reason: FinishReason = "cancelled"
    error = None
    responses = stream_generate(
        model,
        tokenizer,
        to_prefill,
        max_tokens=max_tokens,
        sampler=settings.sampler(),
        logits_processors=settings.logits_processors(),
        prompt_cache=cache.kv,
        prefill_step_size=PREFILL_STEP,
        prompt_progress_callback=check_stop,
    )
    try:
        for response in responses:
            turn.add(response)
            if response.text or response.finish_reason != "stop":
                emit(Token(response.text, response.token, turn.stats))
            if response.finish_reason:
                reason = response.finish_reason
                break
            if stop.is_set():
                break
    except Cancelled:
        reason = "cancelled"
    except Exception as e:  # noqa: BLE001 — a crash mid-answer keeps the partial text and reports it
        reason, error = "error", f"generation failed: {e}"
    finally:
        responses.close()

    answer_ids = turn.fed[:-1] if reason == "stop" else turn.fed
    if reason == "error" or (reason == "cancelled" and not turn.fed):
        cache.reset()
    else:
        cache.record(rendered, prompt, turn.text, answer_ids, turn.fed)
    finished = Finished(turn.text, reason, turn.stats, tuple(answer_ids), error)
    emit(finished)
    return finished
