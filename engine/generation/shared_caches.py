"""Prompt caches for requests that belong to no conversation, such as the local API's stateless requests.

An API client re-sends the whole conversation each time, and many clients share a long system prompt.
Each request takes the cache that already holds the longest prefix of its prompt. When using that cache
would cut tokens another request may come back for (a different last question, a regenerated answer),
the request works on a copy instead, so both stay reusable. The least recently used cache goes first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.generation.prompt_cache import ConversationCache

if TYPE_CHECKING:
    from engine.backends.base import Backend


class SharedCaches:
    """Lives on the worker thread only."""

    def __init__(self, backend: Backend, size: int) -> None:
        self._backend = backend
        self._size = size
        self._caches: list[ConversationCache] = []
        """Least recently used first."""

    def __len__(self) -> int:
        return len(self._caches)

    def take(self, tokenizer: Any, rendered: str) -> ConversationCache:
        """The cache to answer `rendered` with: the best match, a copy of it, or a new one."""
        matches = [(cache.cached_prefix_len(tokenizer, rendered), cache) for cache in self._caches]
        held, best = max(matches, key=lambda match: match[0], default=(0, None))
        if best is None or held == 0:
            chosen = ConversationCache(self._backend)
        elif held < len(best.tokens):
            chosen = best.fork()
        else:
            self._caches.remove(best)
            chosen = best
        self._caches.append(chosen)
        del self._caches[: -self._size]
        return chosen
