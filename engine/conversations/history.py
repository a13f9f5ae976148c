"""What a model is asked in a conversation: the system prompt, then the messages so far.

The window (a branch of the stored message tree) and `cabin chat` (a list kept in memory) both build
their prompt here, so a conversation reads the same to the model wherever it is held.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from engine.conversations.model import answer_parts
from engine.messages import File, Image, Message, system, user


def prompt_messages(system_prompt: str, thread: Iterable[Message]) -> list[Message]:
    """The system prompt (unless blank) followed by the thread."""
    return ([system(system_prompt)] if system_prompt.strip() else []) + list(thread)


@dataclass
class History:
    """A conversation held in memory, one answer after another (no branches): `cabin chat`'s."""

    system_prompt: str = ""
    thread: list[Message] = field(default_factory=list)

    def ask(self, text: str, files: Sequence[File | Image] = ()) -> list[Message]:
        """Add the user's message (its attached files and images first); the messages to answer it with."""
        self.thread.append(user(text, files))
        return prompt_messages(self.system_prompt, self.thread)

    def answered(self, text: str, reasoning: str = "") -> None:
        """Keep the answer, and its thinking apart from it (the chat template decides what later turns see)."""
        self.thread.append(Message("assistant", answer_parts(text, reasoning)))

    def clear(self) -> None:
        self.thread.clear()
