"""The conversation controller behind the window: send, stop, regenerate, edit and switch branches.

The answer's tokens arrive a frame at a time through a `StreamPump`. An answer keeps streaming when the
user looks at another conversation; it is saved every second while it grows, so a crash loses at most
a second of it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from app.chat.routing import ConversationRouting
from app.chat.stream_pump import StreamPump
from app.context import AppContext
from engine.conversations.history import prompt_messages
from engine.conversations.model import INTERRUPTED, STREAMING, MessageTree, StoredMessage, answer_parts
from engine.generation import Finished, Stats
from engine.messages import File, Image, Message, assistant, user

if TYPE_CHECKING:
    from app.chat.documents import ChatDocuments
    from engine.library.retrieval import Retrieval
    from engine.library.store import Citation

SAVE_INTERVAL = 1.0
NEW_TITLE = "New chat"
TITLE_LENGTH = 48


def title_from(text: str) -> str:
    line = text.strip().splitlines()[0] if text.strip() else NEW_TITLE
    return line if len(line) <= TITLE_LENGTH else line[: TITLE_LENGTH - 1].rstrip() + "…"


def stats_values(stats: Stats) -> dict[str, float | int]:
    return {
        "generated_tokens": stats.generated_tokens,
        "generation_tps": stats.generation_tps,
        "ttft": stats.ttft,
        "prompt_tokens": stats.prompt_tokens,
        "cached_tokens": stats.cached_tokens,
        "thinking_time": stats.thinking_time,
    }


class ChatSession(QObject):
    sig_thread_changed = Signal()
    """The open conversation or its visible branch changed: re-read `thread`."""
    sig_streamed = Signal(str, object)
    """(text added this frame, Stats so far) for the answer being written in the open conversation."""
    sig_thinking = Signal(str)
    """Thinking the model added this frame, for the answer being written in the open conversation."""
    sig_thought = Signal(float)
    """The answer being written began, after this many seconds of thinking (only for a model that thought)."""
    sig_answer_finished = Signal(object)
    """The StoredMessage of an answer that just ended (stop, length, cancelled or error) in the open conversation."""
    sig_busy_changed = Signal(bool)
    sig_conversations_changed = Signal()
    """A conversation was created, renamed or got newer: the list should refresh."""

    def __init__(self, context: AppContext, documents: ChatDocuments | None = None) -> None:
        super().__init__()
        self._context = context
        self.documents = documents
        """The libraries answers draw on (app/chat/documents.py); None: answers use no documents."""
        self._retrieval: Retrieval | None = None
        self._store = context.store
        self.conversation_id: str | None = None
        self.draft_system_prompt: str = context.settings.get("default_system_prompt")
        self.draft_thinking: bool | None = None
        """The Think switch of a new conversation, until its first message saves it."""
        self.tree = MessageTree({})
        self.thread: list[StoredMessage] = []
        self._answer: StoredMessage | None = None
        self._saved_at = 0.0
        self.routing = ConversationRouting(context)
        """Who answers in the open conversation (Local only, Auto, Cloud; private), and the routed answer's route."""
        self._pump = StreamPump(self)
        self._pump.sig_frame.connect(self._streamed)
        self._pump.sig_finished.connect(self._finish)

    # -- reading -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._pump.running

    @property
    def streaming_in_view(self) -> bool:
        return self.answering_in(self.conversation_id)

    def answering_in(self, conversation_id: str | None) -> bool:
        """Whether an answer is being written in that conversation (open or not)."""
        return self._answer is not None and self._answer.conversation_id == conversation_id

    @property
    def system_prompt(self) -> str:
        if self.conversation_id is None:
            return self.draft_system_prompt
        return self._store.conversation(self.conversation_id).system_prompt

    @property
    def thinking(self) -> bool | None:
        """The Think switch of the open conversation (None: the model's default)."""
        if self.conversation_id is None:
            return self.draft_thinking
        return self._store.conversation(self.conversation_id).thinking

    @property
    def live_text(self) -> str:
        return self._pump.text

    @property
    def live_stats(self) -> Stats | None:
        return self._pump.stats

    def siblings(self, message: StoredMessage) -> list[StoredMessage]:
        return self.tree.siblings(message)

    def citations(self, message_id: str) -> list[Citation]:
        """The document excerpts an answer was given."""
        return self.documents.citations(message_id) if self.documents else []

    # -- navigation --------------------------------------------------------------------------
    def open(self, conversation_id: str | None) -> None:
        """Show a conversation (None: a new, not yet saved one)."""
        self.conversation_id = conversation_id
        if conversation_id is None:
            self.draft_system_prompt = self._context.settings.get("default_system_prompt")
            self.draft_thinking = None
        self.routing.open(conversation_id)
        self._reload()

    def _reload(self) -> None:
        if self.conversation_id is None:
            self.tree, self.thread = MessageTree({}), []
        else:
            self.tree = self._store.tree(self.conversation_id)
            leaf = self._store.conversation(self.conversation_id).current_leaf
            self.thread = [self._live(m) for m in self.tree.path_to(leaf)]
        self.sig_thread_changed.emit()

    def _live(self, message: StoredMessage) -> StoredMessage:
        """The answer being written carries its in-memory text, newer than the last save."""
        if self._answer is not None and message.id == self._answer.id:
            return replace(message, parts=answer_parts(self._pump.text, self._pump.reasoning))
        return message

    def switch_branch(self, message_id: str, step: int) -> None:
        """Show the previous (-1) or next (+1) version of a message, and the branch that follows it."""
        message = self.tree.messages[message_id]
        versions = self.tree.siblings(message)
        index = versions.index(message) + step
        if self.busy and self.streaming_in_view or not 0 <= index < len(versions):
            return
        leaf = self.tree.newest_leaf_under(versions[index])
        self._store.set_leaf(self.conversation_id, leaf.id)
        self._reload()

    def set_system_prompt(self, text: str) -> None:
        if self.conversation_id is None:
            self.draft_system_prompt = text
        else:
            self._store.set_system_prompt(self.conversation_id, text)
        self.sig_thread_changed.emit()

    def set_thinking(self, thinking: bool | None) -> None:
        """Switch thinking on or off for the open conversation's next answers."""
        if self.conversation_id is None:
            self.draft_thinking = thinking
        else:
            self._store.set_thinking(self.conversation_id, thinking)

    # -- asking ------------------------------------------------------------------------------
    def send(self, text: str, files: Sequence[File | Image] = ()) -> bool:
        """Add a user message (with any attached files) at the end of the visible thread and answer it.
        False when not possible now."""
        if self.busy or not (text.strip() or files):
            return False
        if self.conversation_id is None:
            title = title_from(text if text.strip() else getattr(files[0], "name", None) or "Image")
            conversation = self._store.create_conversation(title, self.draft_system_prompt)
            self.conversation_id = conversation.id
            self._store.set_thinking(self.conversation_id, self.draft_thinking)
            self.routing.saved_as(self.conversation_id)
            if self.documents:
                self.documents.adopt_drafts(self.conversation_id)
        parent = self.thread[-1].id if self.thread else None
        asked = self._store.add_message(self.conversation_id, parent, user(text, files))
        self._answer_to(asked)
        return True

    def regenerate(self, message_id: str | None = None) -> bool:
        """A new version of an answer (the last one by default), kept beside the old as a branch."""
        answers = [m for m in self.thread if m.role == "assistant"]
        target = self.tree.messages.get(message_id) if message_id else (answers[-1] if answers else None)
        if self.busy or target is None or target.parent_id is None:
            return False
        self._answer_to(self.tree.messages[target.parent_id])
        return True

    def edit(self, message_id: str, text: str) -> bool:
        """Ask again from an edited question (its files kept): the new version branches off beside the original."""
        original = self.tree.messages.get(message_id)
        if self.busy or original is None or original.role != "user" or not text.strip():
            return False
        edited = user(text, original.message.of_kind(Image) + original.message.of_kind(File))
        self._answer_to(self._store.add_message(self.conversation_id, original.parent_id, edited))
        return True

    def stop(self) -> None:
        """End the answer within a token; what was written so far is kept, marked as stopped."""
        self._pump.stop()

    def _prompt_messages(self, question: StoredMessage) -> list[Message]:
        thread = self._store.tree(question.conversation_id).path_to(question.id)
        system = self._store.conversation(question.conversation_id).system_prompt
        return prompt_messages(system, [m.message for m in thread])

    def _answer_to(self, question: StoredMessage) -> None:
        model = self._context.models.name or None
        self._answer = self._store.add_message(
            question.conversation_id, question.id, assistant(""), model=model, finish_reason=STREAMING
        )
        self._saved_at = time.monotonic()
        settings = replace(self._context.settings.sampling(), thinking=self.thinking)
        self._retrieval = self.documents.retrieval_for(question.conversation_id) if self.documents else None
        generation = self.routing.start(
            self._prompt_messages(question), settings, question.conversation_id, augment=self._retrieval
        )
        self._pump.start(generation)
        self._reload()
        self.sig_busy_changed.emit(True)
        self.sig_conversations_changed.emit()

    # -- streaming ---------------------------------------------------------------------------
    def _streamed(self, delta: str, thought: str) -> None:
        if self.streaming_in_view:
            self._show_frame(delta, thought)
        self._save_partial()

    def _show_frame(self, delta: str, thought: str) -> None:
        """At most one signal per kind of text: the thinking, its end when the answer begins, the answer."""
        if thought:
            self.sig_thinking.emit(thought)
        if delta and self._pump.reasoning and self._pump.text == delta:
            self.sig_thought.emit(self._pump.stats.thinking_time)
        if delta or not thought:
            self.sig_streamed.emit(delta, self._pump.stats)

    def _save_partial(self) -> None:
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self._store.update_message(self._answer.id, parts=answer_parts(self._pump.text, self._pump.reasoning))
            self._saved_at = time.monotonic()

    def _finish(self, finished: Finished) -> None:
        self._end_answer(finished.text, finished.finish_reason, finished.error, finished.stats, finished.reasoning)

    def _end_answer(
        self, text: str, finish_reason: str, error: str | None, stats: Stats | None, reasoning: str = ""
    ) -> None:
        answer = self._answer
        self._store.update_message(
            answer.id,
            parts=answer_parts(text, reasoning),
            finish_reason=finish_reason,
            error=error,
            **(stats_values(stats) if stats else {}),
            **self.routing.answered(),
        )
        self._pump.release()
        self._answer = None
        if self.documents:
            self.documents.save_citations(answer.id, self._retrieval)
        if answer.conversation_id == self.conversation_id:
            self.tree = self._store.tree(self.conversation_id)
            self.thread = [self.tree.messages[m.id] for m in self.thread]
            self.sig_answer_finished.emit(self.tree.messages[answer.id])
        self.sig_busy_changed.emit(False)

    def finish_now(self, timeout: float = 5.0) -> None:
        """Stop any answer and save it before the window closes.

        The worker ends an answer within a token, but it may first be busy for longer (loading a model,
        or an API request's answer): after `timeout` seconds the text so far is saved as interrupted.
        """
        self._pump.wait(timeout)
        if self._pump.running:
            self._end_answer(self._pump.text, INTERRUPTED, None, self._pump.stats, self._pump.reasoning.strip())
