"""Conversations and messages as plain data, and the branch logic of a message tree.

Every message points at its parent, so editing a question or regenerating an answer adds a sibling
instead of overwriting: the old branch stays one click away. What the user sees is the path from the
root to the conversation's current leaf.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.messages import Message, Part, Reasoning, Role, Text

STREAMING = "streaming"
"""finish_reason of an answer still being written; found at start-up it means the app died mid-answer."""
INTERRUPTED = "interrupted"


@dataclass(frozen=True)
class Conversation:
    id: str
    title: str
    system_prompt: str
    created: float
    updated: float
    current_leaf: str | None
    thinking: bool | None = None
    """The Think switch for models whose template takes one (None: the model's default)."""
    route_mode: str = "local"
    """Who answers: "local" (Local only, the default), "auto" or "cloud" (engine/cloud/route.py)."""
    private: bool = False
    """A private conversation is never routed to the cloud, whatever its mode."""


@dataclass(frozen=True)
class StoredMessage:
    """A Message as a conversation keeps it: its place in the tree, and how its answer went."""

    id: str
    conversation_id: str
    parent_id: str | None
    role: Role
    parts: tuple[Part, ...]
    created: float
    model: str | None = None
    finish_reason: str | None = None
    generated_tokens: int = 0
    generation_tps: float = 0.0
    ttft: float = 0.0
    prompt_tokens: int = 0
    cached_tokens: int = 0
    error: str | None = None
    thinking_time: float = 0.0
    """Seconds the model thought before answering."""
    provider: str | None = None
    """The cloud provider that wrote (some of) this answer; None for a local answer."""
    route: str | None = None
    """Who answered and why, as shown under the answer ("Cloud: long multi-step request, score 0.71")."""
    cost: float = 0.0
    """Estimated US dollars the cloud charged for this answer."""

    @property
    def is_streaming(self) -> bool:
        return self.finish_reason == STREAMING

    @property
    def message(self) -> Message:
        return Message(self.role, self.parts)

    @property
    def text(self) -> str:
        return self.message.text

    @property
    def reasoning(self) -> str:
        """What the model thought before this answer (empty for most messages)."""
        return "".join(part.text for part in self.parts if isinstance(part, Reasoning))


def answer_parts(text: str, reasoning: str = "") -> tuple[Part, ...]:
    """An answer's parts: its thinking (if any) first, then its text (if any)."""
    return ((Reasoning(reasoning),) if reasoning else ()) + ((Text(text),) if text else ())


@dataclass
class MessageTree:
    """All messages of one conversation, indexed for walking branches."""

    messages: dict[str, StoredMessage]
    children: dict[str | None, list[StoredMessage]] = field(default_factory=dict)

    @classmethod
    def of(cls, messages: list[StoredMessage]) -> MessageTree:
        tree = cls({m.id: m for m in messages})
        for message in sorted(messages, key=lambda m: m.created):
            tree.children.setdefault(message.parent_id, []).append(message)
        return tree

    def path_to(self, leaf_id: str | None) -> list[StoredMessage]:
        """The messages from the root down to `leaf_id`, in order."""
        path = []
        while leaf_id is not None and leaf_id in self.messages:
            message = self.messages[leaf_id]
            path.append(message)
            leaf_id = message.parent_id
        return path[::-1]

    def siblings(self, message: StoredMessage) -> list[StoredMessage]:
        """`message` and the other versions of it (same parent), oldest first."""
        return self.children.get(message.parent_id, [message])

    def newest_leaf_under(self, message: StoredMessage) -> StoredMessage:
        """Follow the most recent child down to a leaf: where a switched-to branch was left."""
        while self.children.get(message.id):
            message = self.children[message.id][-1]
        return message
