"""Chatting in the window: streaming, stopping, regenerating, editing, branches, system prompt."""

from __future__ import annotations

from app.chat.pane import ChatPane
from app.conversation import STREAMING

WAIT = 30_000


def chat_pane(window) -> ChatPane:
    return window.pane(ChatPane)


def send(qtbot, pane: ChatPane, text: str) -> None:
    pane.composer.edit.setPlainText(text)
    pane.composer.button.click()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)


def test_a_prompt_streams_an_answer_into_the_window(qtbot, window) -> None:
    pane = chat_pane(window)
    streamed = []
    pane.session.sig_streamed.connect(lambda text, _stats: streamed.append(text))
    send(qtbot, pane, "Hello")
    question, answer = pane.session.thread
    assert question.content == "Hello"
    assert answer.content == "".join(streamed)
    assert answer.finish_reason in ("stop", "length") and answer.generated_tokens > 0
    assert [v.message.id for v in pane.chat.views] == [question.id, answer.id]
    assert pane.composer.edit.toPlainText() == ""
