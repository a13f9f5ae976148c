"""One conversation's KV cache and the exact token ids it holds, so each turn prefills only what is new.

Re-tokenizing the rendered history can split an earlier answer into different ids than the ones the
model generated, which would silently throw the cache away. So the cache keeps checkpoints: rendered
texts whose ids it knows exactly (each prompt, and each prompt + answer). A new prompt that extends a
checkpoint's text reuses those ids verbatim and tokenizes only the rest.

This bookkeeping is the same for every backend; the backend only makes, trims and copies the KV cache.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.generation.cache_file import SavedCache


def common_prefix_len(a: list[int], b: list[int]) -> int:
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class ConversationCache:
    """Lives on the worker thread only."""

    def __init__(self, backend: Backend) -> None:
        self._backend = backend
        self.reset()

    def reset(self) -> None:
        self.kv: Any = self._backend.new_cache()
        self.tokens: list[int] = []
        """Ids whose keys and values are in `kv`, in order."""
        self._checkpoints: dict[str, int] = {}
        """Rendered text -> n, where `tokens[:n]` encode exactly that text."""

    def prompt_ids(self, tokenizer: Any, rendered: str) -> list[int]:
        """Token ids for the rendered prompt, reusing the cached ids of the longest checkpoint it extends."""
        known = [(n, text) for text, n in self._checkpoints.items() if rendered.startswith(text)]
        n, text = max(known, default=(0, ""))
        return self.tokens[:n] + tokenizer.encode(rendered[len(text) :], add_special_tokens=False)

    def rewind_to(self, prompt: list[int]) -> list[int]:
        """Drop cached tokens that are not a prefix of `prompt`; return the ids still to prefill (≥ 1)."""
        keep = min(common_prefix_len(prompt, self.tokens), len(prompt) - 1)
        if keep < len(self.tokens):
            if not self._backend.trim_cache(self.kv, len(self.tokens) - keep):
                self.reset()
                return prompt
            self.tokens = self.tokens[:keep]
            self._checkpoints = {text: n for text, n in self._checkpoints.items() if n <= keep}
        return prompt[len(self.tokens) :]

    def record(self, rendered: str, prompt: list[int], answer: str | None, answer_ids: list[int], fed_ids: list[int]) -> None:
        """After an answer: the cache holds prompt + every generated id (fed_ids, EOS included).

        `answer` is None when the shown text is not exactly what `answer_ids` spell (a stop string was cut).
        """
        self.tokens = prompt + fed_ids
        self._checkpoints[rendered] = len(prompt)
        if answer is not None:
            self._checkpoints[rendered + answer] = len(prompt) + len(answer_ids)

    def cached_prefix_len(self, tokenizer: Any, rendered: str) -> int:
        """How many of the rendered prompt's leading tokens this cache already holds."""
        return common_prefix_len(self.prompt_ids(tokenizer, rendered), self.tokens)

    @classmethod
    def restored(cls, backend: Backend, saved: SavedCache) -> ConversationCache:
        """A cache read back from its file (engine/generation/disk_cache.py)."""
        cache = cls(backend)
        cache.kv, cache.tokens, cache._checkpoints = saved.kv, list(saved.tokens), dict(saved.checkpoints)
        return cache

    def saved(self) -> SavedCache:
        """What to write to its file: the keys and values, their ids and the checkpoints."""
        from engine.generation.cache_file import SavedCache

        return SavedCache(self.kv, list(self.tokens), dict(self._checkpoints))

    def fork(self) -> ConversationCache:
        """An independent copy (its own keys and values), to rewind without losing this one."""
        twin = copy.copy(self)
        twin.kv = self._backend.copy_cache(self.kv)
        twin.tokens = list(self.tokens)
        twin._checkpoints = dict(self._checkpoints)
        return twin
