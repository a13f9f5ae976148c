"""The router: picks Local or Cloud for each request and runs the answer, falling back to local on a cloud failure.

A routed answer is a `Generation` like a local one. Its `route` (who answered and why) and `usage` (the
cloud's tokens and cost) are set before its `Finished` event, so whoever reads that event reads them too.
A request that stays local never opens a socket: the decision reads only the settings and the request, and
the key is looked up (and the network used) only once the cloud has been chosen.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from engine.cloud.answer import NO_TOKEN_ID, CloudAnswer, CloudUsage
from engine.cloud.client import stream_pieces
from engine.cloud.complexity import Complexity, score_request
from engine.cloud.keys import NoKeychain, get_key
from engine.cloud.offline import offline_reason
from engine.cloud.pieces import CloudError
from engine.cloud.provider import Provider, provider_from
from engine.cloud.route import Mode, Route, decide
from engine.generation import Engine, Finished, Generation, SamplingSettings, Token
from engine.generation.worker import finish_early
from engine.messages import Message
from engine.settings.schema import Preferences


@dataclass(frozen=True)
class Request:
    messages: list[Message]
    settings: SamplingSettings
    conversation_id: str | None
    tools: Sequence[dict[str, Any]] = ()


class RoutedGeneration(Generation):
    """A Generation whose events come from the cloud, the local engine, or both (cloud, then local)."""

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        super().__init__(loop)
        self.route: Route | None = None
        self.usage: CloudUsage | None = None
        self._inner: Generation | None = None

    def stop(self) -> None:
        super().stop()
        if self._inner is not None:
            self._inner.stop()

    def follow(self, inner: Generation) -> None:
        """From now on stopping this answer stops `inner` (the local engine's answer it forwards)."""
        self._inner = inner
        if self.stop_requested.is_set():
            inner.stop()


class Router:
    def __init__(self, engine: Engine, preferences: Callable[[], Preferences]) -> None:
        self._engine = engine
        self._preferences = preferences

    def preview(self, mode: Mode, private: bool, messages: Sequence[Message]) -> Route:
        """Who would answer `messages` now (cheap signals only): for the composer, before sending."""
        values = self._preferences()
        provider = provider_from(values)
        complexity = score_request(messages) if mode != "local" else None
        offline = offline_reason(values.offline, provider.url if provider else None) if mode != "local" else None
        return decide(mode, private, offline, provider, complexity, values.route_threshold)

    def answer(
        self,
        request: Request,
        mode: Mode,
        private: bool,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> RoutedGeneration:
        """Start answering; the decision (with the local model's judgement, when that is on) is made on a thread
        of its own, never the caller's."""
        generation = RoutedGeneration(loop)
        args = (generation, self._preferences(), request, mode, private)  # settings read here, on the caller's thread
        threading.Thread(target=self._run, args=args, name="cabin-router", daemon=True).start()
        return generation

    def _run(
        self, generation: RoutedGeneration, values: Preferences, request: Request, mode: Mode, private: bool
    ) -> None:
        try:
            provider = provider_from(values)
            route = self._decide(values, provider, request, mode, private)
            generation.route = route
            if route.target == "cloud" and provider is not None:
                self._cloud(generation, request, provider, route)
            else:
                self._local(generation, request)
        except Exception as e:  # noqa: BLE001 — the answer must end with a Finished event whatever failed
            if not generation.finished.done():
                finish_early(generation.emit, "error", f"{type(e).__name__}: {e}")

    def _decide(
        self, values: Preferences, provider: Provider | None, request: Request, mode: Mode, private: bool
    ) -> Route:
        offline = offline_reason(values.offline, provider.url if provider else None) if mode != "local" else None
        complexity: Complexity | None = None
        if mode != "local" and not private and not offline and provider is not None:
            complexity = score_request(request.messages)
            if mode == "auto" and values.route_judge and not request.tools:
                from engine.cloud.judge import judged  # llguidance: imported only when judging is on

                complexity = judged(self._engine, request.messages, complexity)
        route = decide(mode, private, offline, provider, complexity, values.route_threshold)
        if route.target == "cloud" and request.tools:  # tool calls are parsed by the local model's format
            return Route("local", "the request offers tools", route.score)
        return route

    def _local(self, generation: RoutedGeneration, request: Request, prefix: str = "") -> None:
        """Forward the local engine's answer; `prefix` (a failed cloud answer's text) stays in front of it."""
        inner = self._engine.chat(request.messages, request.settings, request.conversation_id, None, request.tools)
        generation.follow(inner)
        for event in inner:
            generation.emit(replace(event, text=prefix + event.text) if isinstance(event, Finished) else event)

    def _cloud(self, generation: RoutedGeneration, request: Request, provider: Provider, route: Route) -> None:
        answer = CloudAnswer(provider)
        try:
            key = get_key(provider)
            if not key:
                raise CloudError(f"no API key stored for {provider.name}")
            for piece in stream_pieces(provider, key, request.messages, request.settings, generation.stop_requested):
                delta = answer.take(piece)
                if delta:
                    generation.emit(Token(delta, NO_TOKEN_ID, answer.stats()))
        except (CloudError, NoKeychain) as e:
            self._fall_back(generation, request, answer, route, str(e))
            return
        generation.usage = answer.usage()
        reason = "cancelled" if generation.stop_requested.is_set() else answer.finish_reason
        generation.emit(Finished(answer.text, reason, answer.stats()))

    def _fall_back(
        self, generation: RoutedGeneration, request: Request, answer: CloudAnswer, route: Route, error: str
    ) -> None:
        """The cloud failed: the local model answers, after whatever the cloud had already written."""
        generation.route = Route("local", f"cloud failed ({error})", route.score)
        generation.usage = answer.usage() if answer.text else None
        prefix = ""
        if answer.text:
            prefix = f"{answer.text}\n\n*(The cloud answer stopped here: {error}. The local model answers below.)*\n\n"
            generation.emit(Token(prefix[len(answer.text):], NO_TOKEN_ID, answer.stats()))
        if generation.stop_requested.is_set():
            generation.emit(Finished(prefix, "cancelled", answer.stats()))
            return
        self._local(generation, request, prefix)
