"""Hybrid routing for the chat window: each conversation's mode (Local only, Auto, Cloud) and private flag,
and the answer started through the router (engine/cloud/router.py) unless the conversation is Local only.

A Local-only conversation (every conversation's default) asks the engine directly, as before routing existed:
nothing about it can reach the network. A routed answer streams through the same StreamPump as a local one.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.context import AppContext
from engine.cloud.route import Mode, Route
from engine.cloud.router import Request, RoutedGeneration, Router
from engine.generation import Generation, SamplingSettings
from engine.messages import File, Message, user

if TYPE_CHECKING:
    from engine.library.retrieval import Retrieval


DOCUMENTS_STAY_LOCAL = Route("local", "answers from your documents stay on this machine")


class ConversationRouting:
    def __init__(self, context: AppContext) -> None:
        self._context = context
        self._store = context.store
        self.router = Router(context.engine, lambda: context.settings.values)
        self.conversation_id: str | None = None
        self.draft_mode: str = context.settings.get("route_default")
        self.draft_private = False
        self._routed: RoutedGeneration | None = None
        self._kept_local: Route | None = None
        """Why an Auto or Cloud conversation's answer was kept local before the router saw it."""

    # -- the open conversation's choice ------------------------------------------------------
    @property
    def mode(self) -> str:
        if self.conversation_id is None:
            return self.draft_mode
        return self._store.conversation(self.conversation_id).route_mode

    @property
    def private(self) -> bool:
        if self.conversation_id is None:
            return self.draft_private
        return self._store.conversation(self.conversation_id).private

    def open(self, conversation_id: str | None) -> None:
        self.conversation_id = conversation_id
        if conversation_id is None:
            self.draft_mode, self.draft_private = self._context.settings.get("route_default"), False

    def saved_as(self, conversation_id: str) -> None:
        """The new conversation was just saved: it keeps the choice made while it was a draft."""
        self.conversation_id = conversation_id
        self._store.set_routing(conversation_id, self.draft_mode, self.draft_private)

    def set_choice(self, mode: str, private: bool) -> None:
        if self.conversation_id is None:
            self.draft_mode, self.draft_private = mode, private
        else:
            self._store.set_routing(self.conversation_id, mode, private)

    def preview(self, text: str, files: list[File], uses_documents: bool = False) -> Route:
        """Who would answer this message if it were sent now (cheap signals only; no network). A conversation that
        answers from documents keeps its answers local (see `start`)."""
        if uses_documents and self.mode != "local":
            return DOCUMENTS_STAY_LOCAL
        return self.router.preview(self.mode, self.private, [user(text, files)])  # type: ignore[arg-type]

    # -- answering ---------------------------------------------------------------------------
    def start(
        self, messages: list[Message], settings: SamplingSettings, conversation_id: str, augment: Retrieval | None = None
    ) -> Generation:
        """The answer's generation. An answer drawn from the conversation's documents (`augment`) stays on the local
        model whatever the mode: their excerpts never leave the machine."""
        conversation = self._store.conversation(conversation_id)
        if conversation.route_mode == "local" or augment is not None:
            self._routed = None
            self._kept_local = None if conversation.route_mode == "local" else DOCUMENTS_STAY_LOCAL
            return self._context.engine.chat(messages, settings, conversation_id, augment=augment)
        request = Request(messages, settings, conversation_id)
        mode: Mode = conversation.route_mode  # type: ignore[assignment]
        self._routed = self.router.answer(request, mode, conversation.private)
        return self._routed

    def answered(self) -> dict[str, Any]:
        """The values the finished answer is stored with: its route label, and the cloud's provider, model and cost."""
        routed, self._routed = self._routed, None
        kept_local, self._kept_local = self._kept_local, None
        if kept_local is not None:
            return {"route": kept_local.label}
        if routed is None or routed.route is None:
            return {}
        values: dict[str, Any] = {"route": routed.route.label}
        if routed.usage is not None:
            values.update(provider=routed.usage.provider, cost=routed.usage.cost)
            if routed.route.target == "cloud":
                values["model"] = routed.usage.model
        return values
