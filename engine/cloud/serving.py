"""`cabin serve --route auto`: the local API's chat answers routed like the window's Auto conversations.

The server gets this in place of the engine: every attribute is the engine's, except `chat`, which asks the
router. Requests that offer tools, raw completions and embeddings stay local; so does everything when the
settings say Offline or name no cloud model, or HF_HUB_OFFLINE is set. Off unless the flag is given.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from engine.cloud.route import Mode
from engine.cloud.router import Request, Router
from engine.generation import Engine, Generation, SamplingSettings
from engine.messages import Message


class RoutingEngine:
    def __init__(self, engine: Engine, router: Router, mode: Mode = "auto") -> None:
        self._engine = engine
        self._router = router
        self._mode = mode

    def chat(
        self,
        messages: list[Message],
        settings: SamplingSettings = SamplingSettings(),
        conversation_id: str | None = "default",
        loop: asyncio.AbstractEventLoop | None = None,
        tools: Sequence[dict[str, Any]] = (),
    ) -> Generation:
        return self._router.answer(Request(messages, settings, conversation_id, tools), self._mode, False, loop)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)
