"""Every prompt cache of the loaded model: one per conversation (the least recently used dropped first),
and the shared ones for requests that belong to no conversation (engine/generation/shared_caches.py)."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from engine.generation.prompt_cache import ConversationCache
from engine.generation.shared_caches import SharedCaches

if TYPE_CHECKING:
    from engine.backends.base import Backend


class PromptCaches:
    """Lives on the worker thread only, and goes with the model it was made for."""

    def __init__(self, backend: Backend, max_conversations: int, shared: int) -> None:
        self._backend = backend
        self._max_conversations = max_conversations
        self._conversations: OrderedDict[str, ConversationCache] = OrderedDict()
        self._shared = SharedCaches(backend, shared)

    def take(self, conversation_id: str | None, tokenizer: Any, rendered: str) -> ConversationCache:
        """The conversation's cache; with no conversation, the shared cache that best matches `rendered`."""
        if conversation_id is None:
            return self._shared.take(tokenizer, rendered)
        cache = self._conversations.pop(conversation_id, None) or ConversationCache(self._backend)
        self._conversations[conversation_id] = cache
        while len(self._conversations) > self._max_conversations:
            self._conversations.popitem(last=False)
        return cache

    def forget(self, conversation_id: str) -> None:
        self._conversations.pop(conversation_id, None)
