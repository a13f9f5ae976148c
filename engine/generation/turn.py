"""One answer: render the prompt, reuse the prompt cache, stream the backend's tokens as events. Worker thread only."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from threading import Event as StopFlag
from typing import Any

from engine.backends.base import Backend, PrefillStopped, Step
from engine.chat_template import plain_prompt, template_messages, template_switches
from engine.generation.context_window import ContextOverflow, fit_to_context
from engine.generation.events import Event, Finished, FinishReason, Stats, Token
from engine.generation.prompt_cache import ConversationCache
from engine.generation.settings import SamplingSettings
from engine.generation.stop_strings import StopStrings
from engine.messages import Message
from engine.reasoning import ReasoningFormat, Split, reasoning_format, splitter_for


def render_prompt(
    tokenizer: Any, messages: list[Message], thinking: bool | None = None, tools: Sequence[dict[str, Any]] = (),
    reasoning_effort: str | None = None,
) -> str:
    """The conversation as the model's chat template writes it, ending with the assistant's turn.

    `tools` (OpenAI's function definitions) are written by the template itself, where it says to.

    A model without a chat template (a base model) gets plain `Role: text` lines. Either way the
    prompt starts with the BOS token when the model uses one (see `with_bos`). `thinking` is passed to
    a template as `enable_thinking` (None: the template's own default), `reasoning_effort` to a template that
    reads it (gpt-oss).
    """
    template = getattr(tokenizer, "chat_template", None)
    if template:
        switch = template_switches(template, thinking, reasoning_effort)
        vision = getattr(tokenizer, "reads_images", False)  # a vision model's tokenizer (engine/backends/mlx_vlm.py)
        rendered = tokenizer.apply_chat_template(
            template_messages(messages, template, vision), tokenize=False, add_generation_prompt=True,
            tools=list(tools) or None, **switch
        )
    else:
        rendered = plain_prompt(messages)
    return with_bos(tokenizer, rendered)


def render_text(tokenizer: Any, text: str) -> str:
    """A raw completion prompt, starting with the BOS token when the model uses one."""
    return with_bos(tokenizer, text)


def with_bos(tokenizer: Any, rendered: str) -> str:
    """`rendered`, starting with the BOS token exactly once if the tokenizer's own encoding starts with it.

    Prompts are tokenized without special tokens (a chat template writes its own), so a prompt that
    needs BOS must spell it: without it a model trained with BOS first (Gemma, Llama) loses its footing
    and answers gibberish. Tokenizers that add no BOS (Qwen, ChatML-only models) are left alone, as
    their own `encode` and mlx_lm leave them.
    """
    bos = getattr(tokenizer, "bos_token", None)
    adds_bos = bos is not None and tokenizer.encode("")[:1] == [tokenizer.bos_token_id]
    return bos + rendered if adds_bos and not rendered.startswith(bos) else rendered


@dataclass(frozen=True)
class PreparedPrompt:
    """A prompt ready for the model, and the settings of its answer."""

    text: str
    """Rendered: the chat template (or BOS) already applied."""
    settings: SamplingSettings
    """With max_tokens cut to what the context length leaves."""
    dropped: int = 0
    """Oldest messages left out to fit the context length."""
    reasoning: ReasoningFormat | None = None
    """How the answer carries the model's thinking (None: a raw completion, all of it is answer)."""


def prepare_chat(
    tokenizer: Any, messages: list[Message], settings: SamplingSettings, tools: Sequence[dict[str, Any]] = ()
) -> PreparedPrompt:
    """Render a conversation, leaving out its oldest messages if it would overflow the context length."""
    if settings.context_length is None:
        rendered = render_prompt(tokenizer, messages, settings.thinking, tools, settings.reasoning_effort)
        return _chat_prompt(tokenizer, rendered, settings)

    def count(candidate: list[Message]) -> int:
        rendered = render_prompt(tokenizer, candidate, settings.thinking, tools, settings.reasoning_effort)
        return len(tokenizer.encode(rendered, add_special_tokens=False))

    fitted = fit_to_context(messages, count, settings.context_length, settings.max_tokens)
    answer_settings = replace(settings, max_tokens=fitted.max_tokens)
    rendered = render_prompt(tokenizer, fitted.messages, settings.thinking, tools, settings.reasoning_effort)
    return _chat_prompt(tokenizer, rendered, answer_settings, fitted.dropped)


def _chat_prompt(tokenizer: Any, rendered: str, settings: SamplingSettings, dropped: int = 0) -> PreparedPrompt:
    # Under a grammar every token is the constrained answer: nothing is thinking, even after a prompt that opens it.
    grammar = settings.grammar is not None
    kind = None if grammar else reasoning_format(getattr(tokenizer, "chat_template", None), rendered)
    return PreparedPrompt(rendered, settings, dropped, kind)


def prepare_text(tokenizer: Any, text: str, settings: SamplingSettings) -> PreparedPrompt:
    """A raw completion prompt; with a context length, the answer is cut to what the prompt leaves."""
    rendered = render_text(tokenizer, text)
    if settings.context_length is None:
        return PreparedPrompt(rendered, settings)
    room = settings.context_length - len(tokenizer.encode(rendered, add_special_tokens=False))
    if room < 1:
        raise ContextOverflow(f"the prompt is longer than the context length of {settings.context_length}")
    return PreparedPrompt(rendered, replace(settings, max_tokens=min(settings.max_tokens, room)))


class _Turn:
    """Collects the streamed steps of one answer into text (as generated, and split into thinking and
    answer), ids and stats."""

    def __init__(self, prompt_len: int, prefill_len: int, started: float, dropped: int, peak_memory: int) -> None:
        self.prompt_len, self.prefill_len, self.started, self.dropped = prompt_len, prefill_len, started, dropped
        self.pieces: list[str] = []
        self.thought: list[str] = []
        self.answer: list[str] = []
        self.fed: list[int] = []
        self.ttft = 0.0
        self.thinking_time = 0.0
        self.stats = Stats(prompt_len, prefill_len, 0.0, 0, 0.0, 0.0, peak_memory, dropped)

    def add(self, step: Step, text: str, split: Split, batched: int = 0) -> None:
        if not self.fed:
            self.ttft = time.perf_counter() - self.started
        self.pieces.append(text)
        if (self.thought or split.reasoning) and not self.answer:
            # Thinking lasts until the token that begins the answer (its closing tag may come after its text).
            self.thinking_time = time.perf_counter() - self.started - self.ttft
        self.keep(split)
        self.fed.append(step.token)
        self.stats = Stats(
            prompt_tokens=self.prompt_len,
            prefilled_tokens=self.prefill_len,
            prompt_tps=step.prompt_tps,
            generated_tokens=step.generated_tokens,
            generation_tps=step.generation_tps,
            ttft=self.ttft,
            peak_memory=step.peak_memory,
            dropped_messages=self.dropped,
            thinking_time=self.thinking_time,
            draft=step.draft,
            batched=max(batched, self.stats.batched),
        )

    def keep(self, split: Split) -> None:
        if split.reasoning:
            self.thought.append(split.reasoning)
        if split.answer:
            self.answer.append(split.answer)

    @property
    def text(self) -> str:
        """Everything generated, thinking and its tags included: what the ids spell."""
        return "".join(self.pieces)


class AnswerStream:
    """One answer fed step by step: stop strings, the thinking split, stats, events, and at the end the prompt
    cache's record. `run_turn` feeds it from a backend's own stream; a batch (engine/generation/batch_run.py) feeds
    many of them, one step each, from one shared stream."""

    def __init__(
        self, backend: Backend, cache: ConversationCache, prepared: PreparedPrompt, emit: Callable[[Event], None]
    ) -> None:
        self.started = time.perf_counter()
        self._cache, self._emit = cache, emit
        self.rendered, self.settings = prepared.text, prepared.settings
        self.prompt = cache.prompt_ids(backend.tokenizer, self.rendered)
        self.to_prefill = cache.rewind_to(self.prompt)
        self.turn = _Turn(len(self.prompt), len(self.to_prefill), self.started, prepared.dropped, backend.memory().peak)
        self.reason: FinishReason = "cancelled"
        self.error: str | None = None
        self._stop_strings = StopStrings(self.settings.stop)
        self._splitter = splitter_for(prepared.reasoning)

    def feed(self, step: Step, stopping: bool, batched: int = 0) -> bool:
        """Take one step (`stopping`: the stop flag is set; `batched`: answers in the batch that made it); True when
        the answer is over."""
        stop_strings = self._stop_strings
        text = stop_strings.feed(step.text)
        last = stop_strings.hit or bool(step.finish_reason) or stopping
        if not stop_strings.hit and last:
            text += stop_strings.flush()
        split = self._splitter.feed(text) + self._splitter.flush() if last else self._splitter.feed(text)
        self.turn.add(step, text, split, batched)
        if text or step.finish_reason != "stop":
            self._emit(Token(split.answer, step.token, self.turn.stats, split.reasoning))
        if stop_strings.hit or step.finish_reason:
            self.reason = "stop" if stop_strings.hit else step.finish_reason
        return last

    def fail(self, error: str) -> None:
        self.reason, self.error = "error", error

    def finish(self) -> Finished:
        """Record what the cache now holds (or reset it), and emit the Finished event."""
        turn, hit = self.turn, self._stop_strings.hit
        ended_on_eos = self.reason == "stop" and not hit
        answer_ids = turn.fed[:-1] if ended_on_eos else turn.fed
        if self.reason == "error" or (self.reason == "cancelled" and not turn.fed):
            self._cache.reset()
        else:
            # A stop string was cut from the text, so the ids no longer spell the answer exactly.
            self._cache.record(self.rendered, self.prompt, None if hit else turn.text, answer_ids, turn.fed)
        turn.keep(self._splitter.flush())
        thought, answer = "".join(turn.thought).strip(), "".join(turn.answer)
        finished = Finished(answer, self.reason, turn.stats, tuple(answer_ids), self.error, thought)
        self._emit(finished)
        return finished


def run_turn(
    backend: Backend, cache: ConversationCache, prepared: PreparedPrompt, stop: StopFlag, emit: Callable[[Event], None]
) -> Finished:
    """Answer the prepared prompt with the backend and emit its events."""
    answer = AnswerStream(backend, cache, prepared, emit)
    steps = backend.generate(answer.to_prefill, cache.kv, answer.settings, stop)
    try:
        for step in steps:
            if answer.feed(step, stop.is_set()):
                break
    except PrefillStopped:
        pass
    except Exception as e:  # noqa: BLE001 — a crash mid-answer keeps the partial text and reports it
        answer.fail(f"generation failed: {e}")
    finally:
        steps.close()
    return answer.finish()
