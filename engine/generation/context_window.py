"""Fitting a conversation into the context length: leave out the oldest messages, shorten the answer.

The context length bounds prompt + answer. The answer keeps room for `max_tokens`, up to half the
context; when the prompt needs more than the rest, the oldest messages after the system prompt are left
out, whole turns at a time, until the prompt fills at most three quarters of its room. Dropping a bit
more than needed keeps the next few turns within the limit, so their prompt cache is reused instead of
being rebuilt after every message (llama.cpp's context shift discards half for the same reason).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from engine.messages import Message

REFILL_SHARE = 0.75


class ContextOverflow(ValueError):
    pass


@dataclass(frozen=True)
class Fitted:
    messages: list[Message]
    prompt_tokens: int
    max_tokens: int
    dropped: int
    """How many messages were left out."""


def _drop_oldest(messages: list[Message]) -> list[Message]:
    """Without the oldest message after the system prompt, and without an answer left with no question."""
    start = 1 if messages[0].role == "system" else 0
    if len(messages) - start <= 1:
        return messages
    rest = messages[start + 1 :]
    while len(rest) > 1 and rest[0].role == "assistant":
        rest = rest[1:]
    return messages[:start] + rest


def fit_to_context(
    messages: list[Message], count: Callable[[list[Message]], int], context_length: int, max_tokens: int
) -> Fitted:
    """`count(messages)` gives the prompt's length in tokens. The latest message is never left out."""
    room = context_length - min(max_tokens, context_length // 2)
    kept, tokens = messages, count(messages)
    if tokens > room:
        target = int(room * REFILL_SHARE)
        while tokens > target and len(_drop_oldest(kept)) < len(kept):
            kept = _drop_oldest(kept)
            tokens = count(kept)
    if tokens >= context_length:
        raise ContextOverflow(
            f"the system prompt and the latest message take {tokens} tokens, "
            f"more than the context length of {context_length} leaves room for"
        )
    return Fitted(kept, tokens, min(max_tokens, context_length - tokens), len(messages) - len(kept))
