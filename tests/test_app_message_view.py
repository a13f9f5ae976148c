"""One message on screen: its footer, its Copy actions, editing (the text block by block: test_app_message_body)."""

from __future__ import annotations

import time
from dataclasses import replace

import pytest
from PySide6.QtCore import QUrl
from PySide6.QtGui import QGuiApplication

from app.chat import message_view
from app.chat.footer import footer_text
from app.chat.message_view import LIVE_FOOTER_INTERVAL, MessageView
from engine.conversations.model import INTERRUPTED, STREAMING, StoredMessage
from engine.generation import Stats
from engine.messages import text_parts


def message(role: str = "assistant", content: str = "", **values) -> StoredMessage:
    return StoredMessage("m1", "c1", None, role, text_parts(content), time.time(), **values)


@pytest.fixture
def view_of(qtbot):
    def make(msg: StoredMessage) -> MessageView:
        view = MessageView(msg, "model", (0, 1))
        qtbot.addWidget(view)
        view.resize(600, 400)
        view.show()
        return view

    return make


def test_a_finished_answer_shows_its_stats() -> None:
    text = footer_text(message(generated_tokens=12, generation_tps=30.25, ttft=0.0424, finish_reason="stop"))
    assert text == "12 tokens · 30.2 tok/s · TTFT 42 ms"


@pytest.mark.parametrize(
    ("reason", "shown"),
    [("cancelled", "stopped"), ("length", "reached the length limit"), (INTERRUPTED, "interrupted")],
)
def test_an_answer_that_did_not_end_by_itself_says_why(reason: str, shown: str) -> None:
    assert shown in footer_text(message(generated_tokens=3, finish_reason=reason))


def test_an_error_is_shown_in_the_footer() -> None:
    assert "no model is loaded" in footer_text(message(finish_reason="error", error="no model is loaded"))


def test_questions_have_no_footer() -> None:
    assert footer_text(message(role="user", content="hi")) == ""


class Clock:
    """Stands in for the time module in message_view: its time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


def test_the_live_footer_changes_at_most_four_times_a_second(view_of, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(message_view, "time", clock := Clock())
    view = view_of(message(finish_reason=STREAMING))
    view.append("a", Stats(5, 5, 100.0, 1, 40.0, 0.05, 0))
    clock.now = 100.0 + LIVE_FOOTER_INTERVAL / 2
    view.append("b", Stats(5, 5, 100.0, 2, 41.0, 0.05, 0))
    assert "1 tokens" in view.footer.text()
    clock.now = 100.0 + LIVE_FOOTER_INTERVAL
    view.append("c", Stats(5, 5, 100.0, 3, 42.0, 0.05, 0))
    assert "3 tokens" in view.footer.text()


def test_the_copy_link_of_code_nested_in_a_list_copies_its_code(view_of) -> None:
    view = view_of(message(content="1. Run:\n\n   ```python\n   print('hi')\n   ```", finish_reason="stop"))
    view.body.views[0].anchorClicked.emit(QUrl("copy:0"))
    assert QGuiApplication.clipboard().text() == "print('hi')\n"


def test_copy_copies_the_whole_message_as_markdown(view_of) -> None:
    view = view_of(message(content="**bold** answer", finish_reason="stop"))
    view.copy_button.click()
    assert QGuiApplication.clipboard().text() == "**bold** answer"


def test_the_view_is_as_tall_as_its_text(view_of) -> None:
    short = view_of(message(content="one line", finish_reason="stop"))
    tall = view_of(message(content="\n\n".join(f"paragraph {i}" for i in range(30)), finish_reason="stop"))
    assert tall.body.height() > 10 * short.body.height()


def test_escape_abandons_an_edit(qtbot, view_of) -> None:
    from PySide6.QtCore import Qt

    view = view_of(message(role="user", content="hi"))
    view.action_button.click()
    qtbot.keyClick(view.editor, Qt.Key.Key_Escape)
    assert view.editor is None and not view.body.isHidden()


def test_enter_in_the_editor_sends_the_edited_question(qtbot, view_of) -> None:
    from PySide6.QtCore import Qt

    view = view_of(message(role="user", content="hi"))
    view.action_button.click()
    view.editor.setPlainText("hello")
    with qtbot.waitSignal(view.sig_edit) as sent:
        qtbot.keyClick(view.editor, Qt.Key.Key_Return)
    assert sent.args == ["m1", "hello"]


def test_an_answer_that_ran_in_a_batch_says_so_in_its_footer(view_of) -> None:
    view = view_of(message(content="", finish_reason=STREAMING))
    view.append("a", replace(Stats(5, 5, 100.0, 3, 40.0, 0.05, 0), batched=3))
    view.finish(message(content="a", generated_tokens=3, generation_tps=40.0, ttft=0.05, finish_reason="stop"))
    assert view.footer.text().endswith("· in a batch of 3")


def test_an_answer_that_ran_alone_names_no_batch(view_of) -> None:
    view = view_of(message(content="", finish_reason=STREAMING))
    view.append("a", Stats(5, 5, 100.0, 3, 40.0, 0.05, 0))
    view.finish(message(content="a", generated_tokens=3, generation_tps=40.0, ttft=0.05, finish_reason="stop"))
    assert "batch" not in view.footer.text()
