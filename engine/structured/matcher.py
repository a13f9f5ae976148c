"""One answer's walk through a grammar: which tokens may come next, as a bitmask over the vocabulary.

The tokenizer's llguidance twin takes ~0.3 s to build, so it is made once per tokenizer and kept
(`vocabulary`). End-of-sequence tokens are allowed exactly when the grammar accepts what was written
so far, so an answer can only end complete; one cut short by max_tokens ends as "length".
"""

from __future__ import annotations

import weakref
from typing import Any

import llguidance
import llguidance.hf
import numpy as np
from llguidance.numpy import allocate_token_bitmask, fill_next_token_bitmask

from engine.structured.grammar import Grammar, GrammarError

_VOCABULARIES: weakref.WeakKeyDictionary[Any, llguidance.LLTokenizer] = weakref.WeakKeyDictionary()


def vocabulary(tokenizer: Any) -> llguidance.LLTokenizer:
    """llguidance's view of a Hugging Face tokenizer (or mlx_lm's wrapper of one), with all its EOS tokens; a
    tokenizer that builds its own (llama.cpp's, engine/backends/llamacpp_tokenizer.py) is asked for it."""
    if hasattr(tokenizer, "lltokenizer"):
        if tokenizer not in _VOCABULARIES:
            _VOCABULARIES[tokenizer] = tokenizer.lltokenizer()
        return _VOCABULARIES[tokenizer]
    hf = getattr(tokenizer, "_tokenizer", tokenizer)
    if hf not in _VOCABULARIES:
        eos = sorted(getattr(tokenizer, "eos_token_ids", None) or [hf.eos_token_id])
        _VOCABULARIES[hf] = llguidance.hf.from_tokenizer(hf, eos_token=eos)
    return _VOCABULARIES[hf]


class GrammarMatcher:
    """Follows the tokens of one answer; `allowed(vocab_size)` is the mask for the next token."""

    def __init__(self, grammar: Grammar, tokenizer: Any) -> None:
        vocab = vocabulary(tokenizer)
        self._matcher = llguidance.LLMatcher(vocab, grammar.source, log_level=0)
        self._raise_on_error()
        self._words = allocate_token_bitmask(1, vocab.vocab_size)

    def _raise_on_error(self) -> None:
        if self._matcher.is_error():
            raise GrammarError(self._matcher.get_error())

    def consume(self, token: int) -> None:
        """Move past a sampled token (one the last mask allowed)."""
        self._matcher.consume_token(token)
        self._raise_on_error()

    def allowed(self, vocab_size: int) -> np.ndarray:
        """A boolean array of `vocab_size`: True where the token may come next (ids past the tokenizer's: never)."""
        fill_next_token_bitmask(self._matcher, self._words)
        self._raise_on_error()
        bits = np.unpackbits(self._words.view(np.uint8), bitorder="little").view(np.bool_)
        if len(bits) >= vocab_size:
            return bits[:vocab_size]
        return np.concatenate([bits, np.zeros(vocab_size - len(bits), np.bool_)])

    @property
    def accepting(self) -> bool:
        return self._matcher.is_accepting()
