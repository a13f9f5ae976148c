"""Every prompt cache of the loaded model: one per conversation (the least recently used dropped first),
and the shared ones for requests that belong to no conversation (engine/generation/shared_caches.py).

With cache files (engine/generation/disk_cache.py), a conversation not in memory is read back from its file,
and a conversation's cache is written to its file some time after it answered (`save_unsaved`)."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from engine.generation.prompt_cache import ConversationCache
from engine.generation.shared_caches import SharedCaches

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.generation.disk_cache import ModelCacheFiles


class PromptCaches:
    """Lives on the worker thread only, and goes with the model it was made for."""

    def __init__(
        self, backend: Backend, max_conversations: int, shared: int, files: ModelCacheFiles | None = None
    ) -> None:
        self._backend = backend
        self._max_conversations = max_conversations
        self._conversations: OrderedDict[str, ConversationCache] = OrderedDict()
        self._shared = SharedCaches(backend, shared)
        self._files = files
        self._unsaved: dict[str, ConversationCache] = {}
        """Conversations that answered since their file was written."""

    def take(self, conversation_id: str | None, tokenizer: Any, rendered: str) -> ConversationCache:
        """The conversation's cache; with no conversation, the shared cache that best matches `rendered`."""
        if conversation_id is None:
            return self._shared.take(tokenizer, rendered)
        cache = self._conversations.pop(conversation_id, None) or self._restore(conversation_id)
        self._conversations[conversation_id] = cache
        while len(self._conversations) > self._max_conversations:
            self._conversations.popitem(last=False)
        return cache

    def _restore(self, conversation_id: str) -> ConversationCache:
        restored = self._files.restore(conversation_id, self._backend) if self._files is not None else None
        return restored or ConversationCache(self._backend)

    def answered(self, conversation_id: str | None, cache: ConversationCache) -> bool:
        """Note that the conversation's cache changed; True when it is to be written to its file."""
        if conversation_id is None or self._files is None:
            return False
        self._unsaved.pop(conversation_id, None)
        self._unsaved[conversation_id] = cache  # last: the files are written in order of use
        return True

    def save_unsaved(self) -> None:
        """Write the cache of every conversation that answered since its last write, least recently used first."""
        while self._unsaved and self._files is not None:
            conversation_id = next(iter(self._unsaved))
            self._files.save(conversation_id, self._unsaved.pop(conversation_id))

    def drop_unsaved(self) -> None:
        self._unsaved.clear()

    def forget(self, conversation_id: str) -> None:
        self._conversations.pop(conversation_id, None)
        self._unsaved.pop(conversation_id, None)
