"""Turns on the engine for API requests when the model batches, and the KV-cache memory they reserve.

A model that batches (engine/generation/batch_run.py) answers up to DECODE_BATCH API requests together: each holds
a shared turn while it runs. A model load or unload takes the exclusive turn: it waits for the running requests
to end and holds new ones back. A model that does not batch (llama.cpp, a quantized KV cache) has one turn, so its
requests run one after the other, as before.

Before a request runs, the KV cache its context needs (its prompt, estimated, plus its `max_tokens`) is reserved
against the room the memory budget leaves beside the weights (engine/generation/kv_room.py); a request that would
overflow it while others run is refused with a 503 and a Retry-After, like a full queue.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from engine.generation import Generation
from engine.messages import Message
from engine.server.errors import ApiError

TEMPLATE_TOKENS = 16
"""Tokens a chat template adds around each message (role tags, separators), estimated."""
BYTES_PER_TOKEN = 3
"""UTF-8 bytes per prompt token, estimated (English text runs at ~4 with these tokenizers)."""


@dataclass(frozen=True)
class EngineCall:
    """Starts one generation (on the given loop) and says how much context it may take."""

    start: Callable[[asyncio.AbstractEventLoop], Generation]
    context_tokens: int
    """Its prompt, estimated, plus its max_tokens: what its KV cache may grow to."""

    def __call__(self, loop: asyncio.AbstractEventLoop) -> Generation:
        return self.start(loop)


def chat_tokens(messages: Sequence[Message], tools: Sequence[dict[str, Any]], max_tokens: int) -> int:
    """The context a chat request may take, estimated from its size (the tokenizer is on the worker thread)."""
    size = sum(len(message.text.encode()) for message in messages) + len(json.dumps(list(tools)).encode())
    return size // BYTES_PER_TOKEN + TEMPLATE_TOKENS * len(messages) + max_tokens


def text_tokens(prompt: str, max_tokens: int) -> int:
    return len(prompt.encode()) // BYTES_PER_TOKEN + max_tokens


class KVReservations:
    """The KV-cache bytes the running API requests reserved, against a room (bytes) read when each asks."""

    def __init__(self, room: Callable[[], int], bytes_per_token: Callable[[], int]) -> None:
        self._room, self._bytes_per_token = room, bytes_per_token
        self.reserved = 0

    def reserve(self, tokens: int) -> int:
        """Reserve the KV cache of `tokens` of context; the bytes reserved. 503 when it does not fit beside the
        requests already running (one request alone always runs: the model's fit check covered its context)."""
        needed = tokens * self._bytes_per_token()
        if self.reserved and self.reserved + needed > self._room():
            raise ApiError(503, f"The server is at its memory budget: the KV cache of the requests running leaves no "
                           f"room for this one's {tokens:,} tokens of context. Retry shortly.",
                           "server_error", None, "memory_budget")
        self.reserved += needed
        return needed

    def release(self, reserved: int) -> None:
        self.reserved -= reserved


class Turns:
    """Shared turns (up to `capacity()` at once) and one exclusive turn, granted in the order they are asked for."""

    def __init__(self, capacity: Callable[[], int]) -> None:
        self._capacity = capacity
        self._changed = asyncio.Condition()
        self.shared = 0
        self._exclusive = False
        self._exclusive_waiting = 0

    async def take_shared(self) -> None:
        async with self._changed:
            await self._changed.wait_for(
                lambda: not self._exclusive and not self._exclusive_waiting and self.shared < self._capacity()
            )
            self.shared += 1

    async def take_exclusive(self) -> None:
        async with self._changed:
            self._exclusive_waiting += 1
            try:
                await self._changed.wait_for(lambda: not self._exclusive and self.shared == 0)
            finally:
                self._exclusive_waiting -= 1
            self._exclusive = True

    def release_shared(self) -> None:
        self.shared -= 1
        self.wake()

    def release_exclusive(self) -> None:
        self._exclusive = False
        self.wake()

    def wake(self) -> None:
        """Let the waiters look again (a turn was given back, or the capacity changed)."""
        asyncio.get_running_loop().create_task(self._notify())

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()
