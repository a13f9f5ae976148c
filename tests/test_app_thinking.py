"""A reasoning model in the chat window: its thinking streams in an open block above the answer, folds to
"Thought for N s" when the answer begins, is saved and exported apart, and a Think switch shows for
templates that take one. The model is a scripted backend behind the real engine, with Qwen3's template."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from app.chat.pane import ChatPane
from app.model_state import ModelStatus
from tests.app_fixtures import WAIT, chat_pane, send
from tests.reasoning_models import ScriptedBackend, install

THOUGHT = "The user says hi. A greeting deserves a friendly reply."
ANSWER = "Hello! How can I help you today?"
OUTPUT = f"<think>\n{THOUGHT}\n</think>\n\n{ANSWER}"


def thinking_pane(make_window: Callable, tokenizer: Any, pause: bool = False) -> tuple[ChatPane, ScriptedBackend]:
    """A window whose loaded model writes OUTPUT (pausing before `</think>` when asked)."""
    window = make_window()
    window.context.settings.set("max_tokens", 256)
    script = tokenizer.encode(OUTPUT, add_special_tokens=False)
    backend = ScriptedBackend(tokenizer, script, script.index(tokenizer.convert_tokens_to_ids("</think>")) if pause else None)
    info = install(window.context.engine, backend)
    window.context.models._set(ModelStatus.READY, info=info)
    return chat_pane(window), backend


@pytest.fixture
def qwen3(family_tokenizers: Callable[[str], Any]) -> Any:
    return family_tokenizers("qwen3")


def ask_until_thinking_shows(qtbot, pane) -> None:
    """Send "Hi" and wait until the answer's thinking block shows the model's thought."""
    pane.composer.edit.setPlainText("Hi")
    pane.composer.button.click()
    qtbot.waitUntil(lambda: pane.chat.views[-1].thinking is not None
                    and THOUGHT in pane.chat.views[-1].thinking.text.toPlainText(), timeout=WAIT)


def test_thinking_streams_in_an_open_block_above_an_empty_answer(qtbot, make_window, qwen3: Any) -> None:
    pane, backend = thinking_pane(make_window, qwen3, pause=True)
    ask_until_thinking_shows(qtbot, pane)
    view = pane.chat.views[-1]
    assert view.thinking.is_open and view.thinking.header.text().startswith("Thinking…")
    assert view.body.toPlainText().strip() == ""
    backend.resume.set()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)


def test_the_thinking_folds_to_how_long_it_took_when_the_answer_begins(qtbot, make_window, qwen3: Any) -> None:
    pane, _ = thinking_pane(make_window, qwen3)
    send(qtbot, pane, "Hi")
    view = pane.chat.views[-1]
    assert re.fullmatch(r"Thought for \d+ s", view.thinking.header.text()) and not view.thinking.is_open
    assert view.body.toPlainText().strip() == ANSWER


def test_the_answer_and_its_thinking_are_saved_apart(qtbot, make_window, qwen3: Any) -> None:
    pane, _ = thinking_pane(make_window, qwen3)
    send(qtbot, pane, "Hi")
    [answer] = [m for m in pane.store.thread(pane.session.conversation_id) if m.role == "assistant"]
    assert (answer.reasoning, answer.text) == (THOUGHT, ANSWER) and answer.thinking_time > 0


def test_a_stored_answer_shows_its_thinking_folded_and_a_click_opens_it(qtbot, make_window, qwen3: Any) -> None:
    pane, _ = thinking_pane(make_window, qwen3)
    send(qtbot, pane, "Hi")
    pane.session.open(pane.session.conversation_id)
    block = pane.chat.views[-1].thinking
    assert not block.is_open and block.header.text().startswith("Thought for")
    block.header.click()
    assert block.is_open and block.text.isVisibleTo(block) and block.text.toPlainText() == THOUGHT


def test_the_markdown_export_marks_the_thinking_and_the_json_keeps_it_apart(
    qtbot, make_window, qwen3: Any, tmp_path: Path
) -> None:
    pane, _ = thinking_pane(make_window, qwen3)
    send(qtbot, pane, "Hi")
    pane.export(pane.session.conversation_id, "markdown", tmp_path / "chat.md")
    pane.export(pane.session.conversation_id, "json", tmp_path / "chat.json")
    markdown, document = (tmp_path / "chat.md").read_text(), (tmp_path / "chat.json").read_text()
    assert f"<details><summary>Thinking</summary>\n\n{THOUGHT}\n\n</details>\n\n{ANSWER}" in markdown
    assert "<think>" not in markdown and f'"reasoning": "{THOUGHT}"' in document


def test_the_think_switch_shows_for_a_template_that_takes_it(qtbot, make_window, qwen3: Any) -> None:
    pane, _ = thinking_pane(make_window, qwen3)
    qtbot.waitUntil(pane.think.isVisible, timeout=WAIT)


def test_the_think_switch_stays_hidden_for_a_model_that_always_thinks(
    qtbot, make_window, family_tokenizers: Callable[[str], Any]
) -> None:
    pane, _ = thinking_pane(make_window, family_tokenizers("deepseek_r1"))
    task = pane.think.follow_model(pane.context.engine)
    qtbot.waitUntil(task.done, timeout=WAIT)
    assert not pane.think.isVisible()


def test_think_switched_off_reaches_the_template_and_stays_with_the_conversation(qtbot, make_window, qwen3: Any) -> None:
    pane, backend = thinking_pane(make_window, qwen3)
    qtbot.waitUntil(pane.think.isVisible, timeout=WAIT)
    pane.think.click()
    send(qtbot, pane, "Hi")
    prompt = qwen3.decode(backend.prompts[-1])
    conversation = pane.session.conversation_id
    pane.new_chat()
    assert pane.think.isChecked()
    pane.session.open(conversation)
    assert prompt.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n") and not pane.think.isChecked()


def test_an_answer_stopped_while_thinking_keeps_its_thinking_folded(qtbot, make_window, qwen3: Any) -> None:
    pane, _ = thinking_pane(make_window, qwen3, pause=True)
    ask_until_thinking_shows(qtbot, pane)
    pane.session.stop()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    [answer] = [m for m in pane.store.thread(pane.session.conversation_id) if m.role == "assistant"]
    block = pane.chat.views[-1].thinking
    assert (answer.reasoning, answer.text, answer.finish_reason) == (THOUGHT, "", "cancelled")
    assert not block.live and not block.is_open and block.header.text().startswith("Thought for")
