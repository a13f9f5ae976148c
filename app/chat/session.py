"""The chat logic behind the window: send, stream, stop, regenerate, edit and switch branches.

Events from the engine's worker are collected by `Generation.drain()` on a 20 Hz timer, so the UI
hears about a whole frame of tokens at once (one signal, one repaint), never one per token. An answer
keeps streaming when the user looks at another conversation; it is saved every second while it grows,
so a crash loses at most a second of it.
"""

from __future__ import annotations

import time
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from app.context import AppContext
from app.conversation import INTERRUPTED, STREAMING, Message, MessageTree
from engine.generation import Finished, Generation, Stats, Token

FRAME_MS = 50
"""How often streamed text reaches the screen (20 times a second). Each frame costs the UI thread about
1 ms of layout and painting on a 2-core Linux machine, and on the CPU backend that time comes straight
out of decoding: at 30 frames a second the window decoded 5% slower than raw mlx_lm, at 20 (with the
pacing in message_view.py) 1–2% slower."""
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
    }


class ChatSession(QObject):
    sig_thread_changed = Signal()
    """The open conversation or its visible branch changed: re-read `thread`."""
    sig_streamed = Signal(str, object)
    """(text added this frame, Stats so far) for the answer being written in the open conversation."""
    sig_answer_finished = Signal(object)
    """The Message of an answer that just ended (stop, length, cancelled or error) in the open conversation."""
    sig_busy_changed = Signal(bool)
    sig_conversations_changed = Signal()
    """A conversation was created, renamed or got newer: the list should refresh."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self._context = context
        self._store = context.store
        self.conversation_id: str | None = None
        self.draft_system_prompt: str = context.settings.get("default_system_prompt")
        self.tree = MessageTree({})
        self.thread: list[Message] = []
        self._generation: Generation | None = None
        self._answer: Message | None = None
        self._text = ""
        self._stats: Stats | None = None
        self._saved_at = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(FRAME_MS)
        self._timer.timeout.connect(self._poll)

    # -- reading -----------------------------------------------------------------------------
    @property
    def busy(self) -> bool:
        return self._generation is not None

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
    def live_text(self) -> str:
        return self._text

    @property
    def live_stats(self) -> Stats | None:
        return self._stats

    def siblings(self, message: Message) -> list[Message]:
        return self.tree.siblings(message)

    # -- navigation --------------------------------------------------------------------------
    def open(self, conversation_id: str | None) -> None:
        """Show a conversation (None: a new, not yet saved one)."""
        self.conversation_id = conversation_id
        if conversation_id is None:
            self.draft_system_prompt = self._context.settings.get("default_system_prompt")
        self._reload()

    def _reload(self) -> None:
        if self.conversation_id is None:
            self.tree, self.thread = MessageTree({}), []
        else:
            self.tree = self._store.tree(self.conversation_id)
            leaf = self._store.conversation(self.conversation_id).current_leaf
            self.thread = [self._live(m) for m in self.tree.path_to(leaf)]
        self.sig_thread_changed.emit()

    def _live(self, message: Message) -> Message:
        """The answer being written carries its in-memory text, newer than the last save."""
        if self._answer is not None and message.id == self._answer.id:
            return replace(message, content=self._text)
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

    # -- asking ------------------------------------------------------------------------------
    def send(self, text: str) -> bool:
        """Add a user message at the end of the visible thread and answer it. False when not possible now."""
        if self.busy or not text.strip():
            return False
        if self.conversation_id is None:
            conversation = self._store.create_conversation(title_from(text), self.draft_system_prompt)
            self.conversation_id = conversation.id
        parent = self.thread[-1].id if self.thread else None
        question = self._store.add_message(self.conversation_id, parent, "user", text)
        self._answer_to(question)
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
        """Ask again from an edited question: the new version branches off beside the original."""
        original = self.tree.messages.get(message_id)
        if self.busy or original is None or original.role != "user" or not text.strip():
            return False
        question = self._store.add_message(self.conversation_id, original.parent_id, "user", text)
        self._answer_to(question)
        return True

    def stop(self) -> None:
        """End the answer within a token; what was written so far is kept, marked as stopped."""
        if self._generation is not None:
            self._generation.stop()

    def _prompt_messages(self, question: Message) -> list[dict[str, str]]:
        tree = self._store.tree(question.conversation_id)
        history = [{"role": m.role, "content": m.content} for m in tree.path_to(question.id)]
        system = self._store.conversation(question.conversation_id).system_prompt
        return ([{"role": "system", "content": system}] if system.strip() else []) + history

    def _answer_to(self, question: Message) -> None:
        model = self._context.models.name or None
        self._answer = self._store.add_message(
            question.conversation_id, question.id, "assistant", "", model=model, finish_reason=STREAMING
        )
        self._text, self._stats, self._saved_at = "", None, time.monotonic()
        self._generation = self._context.engine.chat(
            self._prompt_messages(question), self._context.settings.sampling(), question.conversation_id
        )
        self._timer.start()
        self._reload()
        self.sig_busy_changed.emit(True)
        self.sig_conversations_changed.emit()

    # -- streaming ---------------------------------------------------------------------------
    def _poll(self) -> None:
        if self._generation is None:
            return
        pieces, finished = [], None
        for event in self._generation.drain():
            if isinstance(event, Token):
                pieces.append(event.text)
                self._stats = event.stats
            elif isinstance(event, Finished):
                finished = event
        if pieces:
            delta = "".join(pieces)
            self._text += delta
            if self.streaming_in_view:
                self.sig_streamed.emit(delta, self._stats)
            self._save_partial()
        if finished is not None:
            self._finish(finished)

    def _save_partial(self) -> None:
        if time.monotonic() - self._saved_at >= SAVE_INTERVAL:
            self._store.update_message(self._answer.id, content=self._text)
            self._saved_at = time.monotonic()

    def _finish(self, finished: Finished) -> None:
        self._end_answer(finished.text, finished.finish_reason, finished.error, finished.stats)

    def _end_answer(self, text: str, finish_reason: str, error: str | None, stats: Stats | None) -> None:
        answer = self._answer
        self._store.update_message(
            answer.id,
            content=text,
            finish_reason=finish_reason,
            error=error,
            **(stats_values(stats) if stats else {}),
        )
        self._timer.stop()
        self._generation = self._answer = None
        self._text, self._stats = "", None
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
        if self._generation is None:
            return
        self._generation.stop()
        try:
            self._generation.result(timeout)
        except TimeoutError:
            pass
        self._poll()
        if self._generation is not None:
            self._end_answer(self._text, INTERRUPTED, None, self._stats)
