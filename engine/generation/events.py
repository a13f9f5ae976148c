"""What a generation streams back: small frozen dataclasses holding only plain Python values."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from engine.speculative import DraftStats

FinishReason = Literal["stop", "length", "cancelled", "error"]


@dataclass(frozen=True)
class Stats:
    prompt_tokens: int
    """Tokens in the whole prompt (the conversation so far)."""
    prefilled_tokens: int
    """Of those, the tokens computed for this answer; the rest came from the prompt cache."""
    prompt_tps: float
    generated_tokens: int
    generation_tps: float
    ttft: float
    """Seconds from the request reaching the worker to the first token."""
    peak_memory: int
    """Bytes, MLX's peak since the last reset."""
    dropped_messages: int = 0
    """Oldest messages left out of the prompt to fit the context length."""
    thinking_time: float = 0.0
    """Seconds the model spent thinking, from its first token to the last of its thinking (0: it did not think)."""
    draft: DraftStats | None = None
    """Speculative decoding: what the draft model did (None: the model has no draft)."""
    batched: int = 0
    """The most answers the batch held while this one ran, itself included (0: answered alone, not in a batch)."""

    @property
    def cached_tokens(self) -> int:
        return self.prompt_tokens - self.prefilled_tokens


@dataclass(frozen=True)
class Token:
    """One generated token and what it adds: to the answer (`text`) and to the thinking (`reasoning`).

    A token may add to neither (the text of a tag, or the start of one held back until the next
    token settles it), or to both (the token that ends the thinking and begins the answer)."""

    text: str
    token_id: int
    stats: Stats
    reasoning: str = ""


@dataclass(frozen=True)
class Finished:
    text: str
    """The whole answer, kept even when it was stopped or failed midway (without the thinking)."""
    finish_reason: FinishReason
    stats: Stats
    token_ids: tuple[int, ...] = ()
    error: str | None = None
    reasoning: str = ""
    """What the model thought before answering (empty for a model that does not think)."""


Event = Token | Finished
