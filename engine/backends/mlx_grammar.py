"""A grammar as an mlx_lm logits processor: every token the grammar forbids gets -inf before sampling.

mlx_lm calls a processor with all the tokens of this call so far (the prompt suffix it prefilled, then one
more per step) and the next token's logits. The first call marks where the prompt ends; each later call
moves the matcher past the token sampled since, then masks. Put it last among the processors, so that
no penalty can lift a forbidden token back.
"""

from __future__ import annotations

from typing import Any

import mlx.core as mx

from engine.structured.grammar import Grammar
from engine.structured.matcher import GrammarMatcher


class GrammarProcessor:
    """`(tokens, logits) -> logits` for one answer; make a new one per answer."""

    def __init__(self, grammar: Grammar, tokenizer: Any) -> None:
        self._matcher = GrammarMatcher(grammar, tokenizer)
        self._seen: int | None = None

    def __call__(self, tokens: mx.array, logits: mx.array) -> mx.array:
        if self._seen is not None:
            for token in tokens[self._seen :].tolist():
                self._matcher.consume(token)
        self._seen = tokens.size
        allowed = mx.array(self._matcher.allowed(logits.shape[-1]))
        return mx.where(allowed, logits, mx.array(-float("inf"), logits.dtype))
