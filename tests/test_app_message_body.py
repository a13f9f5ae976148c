"""A message's text on screen block by block: code is code from its opening fence, finished blocks stay as
they are, long code lines scroll inside their block, and the finished message looks as it did live."""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QPoint
from PySide6.QtGui import QFontInfo, QGuiApplication
from PySide6.QtWidgets import QApplication

from app.chat import message_body
from app.chat.browser import MessageBrowser
from app.chat.code_block import CodeBlockView
from app.chat.message_body import LIVE_UPDATE_INTERVAL
from app.chat.message_view import MessageView
from engine.conversations.model import STREAMING, StoredMessage
from engine.messages import text_parts

ANSWER = (
    "Here is a function:\n\n```python\ndef is_prime(n):\n    if n < 2:\n        return False\n"
    "    for i in range(2, int(n**0.5) + 1):\n        if n % i == 0:\n            return False\n"
    "    return True\n```\n\nIt tries every divisor up to the square root of `n`.\n\n"
    "Example usage:\n```python\nprint(is_prime(37))  # True\n```"
)
LONG_LINE = "x = [" + ", ".join(str(i) for i in range(200)) + "]"


def message(content: str = "", **values) -> StoredMessage:
    return StoredMessage("m1", "c1", None, "assistant", text_parts(content), time.time(), **values)


@pytest.fixture
def view_of(qtbot):
    def make(msg: StoredMessage, width: int = 600) -> MessageView:
        view = MessageView(msg, "model", (0, 1))
        qtbot.addWidget(view)
        view.resize(width, 400)
        view.show()
        return view

    return make


class Clock:
    """Stands in for the time module in message_body: its time moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 100.0

    def perf_counter(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    monkeypatch.setattr(message_body, "time", clock := Clock())
    return clock


@pytest.fixture
def stream(clock: Clock):
    """Stream text into a view in frames, one update interval apart: each frame is shown as it arrives."""

    def send(view: MessageView, text: str, frame: int = 5) -> None:
        for start in range(0, len(text), frame):
            view.append(text[start : start + frame], None)
            QApplication.processEvents()
            clock.now += LIVE_UPDATE_INTERVAL

    return send


def kinds(view: MessageView) -> list[str]:
    return ["code" if isinstance(v, CodeBlockView) else "prose" for v in view.body.views]


def test_an_open_fence_streamed_in_frames_is_shown_as_code_before_it_closes(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "Here is a function:\n\n```python\ndef is_prime(n):\n    if n < 2:\n        ret")
    code = view.body.views[-1]
    assert kinds(view) == ["prose", "code"]
    assert code.code == "def is_prime(n):\n    if n < 2:\n        ret" and code.language.text() == "python"
    assert QFontInfo(code.text.font()).fixedPitch()


def test_three_backticks_typed_one_by_one_become_a_code_block(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "```py\nx = 1\n", frame=1)
    assert kinds(view) == ["code"] and view.body.views[0].code == "x = 1"


def test_complete_blocks_are_not_rendered_again_when_more_text_arrives(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "First paragraph, **complete**.\n\nSecond")
    first = view.body.views[0]
    renders = first.renders
    stream(view, " paragraph, still being written, and written on for a while. " * 5 + "\n\n```\ncode\n")
    assert view.body.views[0] is first and first.renders == renders
    assert first.toPlainText() == "First paragraph, complete."


def test_a_code_block_grows_without_being_rebuilt(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "```python\ndef f():\n")
    code = view.body.views[0]
    document = code.text.document()
    stream(view, "    return 1\n\ndef g():\n    return 2\n")
    assert view.body.views[0] is code and code.text.document() is document
    assert code.code == "def f():\n    return 1\n\ndef g():\n    return 2"


def test_a_long_code_line_scrolls_inside_its_block_and_the_message_keeps_its_width(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING), width=500)
    stream(view, f"```python\n{LONG_LINE}\n", frame=40)
    code = view.body.views[0]
    assert code.text.horizontalScrollBar().maximum() > 0
    assert view.width() == 500 and code.geometry().right() < view.width()


def test_the_copy_button_stays_in_view_beside_a_long_line(view_of) -> None:
    view = view_of(message(content=f"```python\n{LONG_LINE}\n```", finish_reason="stop"), width=500)
    QApplication.processEvents()
    button = view.body.views[0].copy_button
    right = button.mapTo(view, QPoint(button.width(), 0)).x()
    assert button.isVisible() and right <= view.width()


def test_copy_copies_the_code_blocks_source(view_of) -> None:
    text = "Try:\n\n```python\nprint('hi')\n```\n\nThen:\n\n```\nsecond\n```"
    view = view_of(message(content=text, finish_reason="stop"))
    copies = [v for v in view.body.views if isinstance(v, CodeBlockView)]
    copies[1].copy_button.click()
    assert QGuiApplication.clipboard().text() == "second\n"
    assert view.body.code_blocks == ("print('hi')\n", "second\n")


def test_the_finished_message_looks_as_it_did_live(view_of, stream) -> None:
    live = view_of(message(finish_reason=STREAMING))
    stream(live, ANSWER)
    before = live.body.grab().toImage()
    live.finish(message(content=ANSWER, finish_reason="stop"))
    QApplication.processEvents()
    assert live.body.grab().toImage() == before


def test_the_finished_message_is_the_same_as_one_shown_from_history(view_of, stream) -> None:
    live = view_of(message(finish_reason=STREAMING))
    stream(live, ANSWER, frame=3)
    live.finish(message(content=ANSWER, finish_reason="stop"))
    stored = view_of(message(content=ANSWER, finish_reason="stop"))
    QApplication.processEvents()
    assert kinds(live) == kinds(stored) == ["prose", "code", "prose", "prose", "code"]
    assert live.body.grab().toImage() == stored.body.grab().toImage()


def test_a_prose_block_shows_its_markdown_rendered_while_it_is_written(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "| a | b |\n|---|---|\n| 1 | 2 |\n", frame=100)
    prose = view.body.views[0]
    assert isinstance(prose, MessageBrowser) and "<table" in prose.toHtml()


def test_the_real_models_code_is_shown_as_code_while_it_streams(qtbot, make_window, smollm2_model) -> None:
    """SmolLM2 answers this with a fenced Python function; 40 tokens end the answer inside its code block."""
    from tests.app_fixtures import WAIT, chat_pane

    window = make_window(smollm2_model)
    window.context.settings.set("max_tokens", 40)
    pane = chat_pane(window)
    pane.composer.edit.setPlainText("Write a short Python function that checks if a number is prime")
    pane.composer.button.click()

    def code_on_screen() -> bool:
        views = pane.chat.views[-1].body.views
        return bool(views) and isinstance(views[0], CodeBlockView) and "if n < 2:" in views[0].code

    qtbot.waitUntil(code_on_screen, timeout=WAIT)
    assert pane.session.busy and "```" not in pane.chat.views[-1].body.views[0].code
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    assert kinds(pane.chat.views[-1]) == ["code"]


def test_a_closing_fence_typed_in_pieces_leaves_only_the_code(view_of, stream) -> None:
    view = view_of(message(finish_reason=STREAMING))
    stream(view, "```python\nprint('🙂')\n``", frame=100)
    stream(view, "`\n\nDone.", frame=100)
    code = view.body.views[0]
    assert code.code == "print('🙂')" and code.text.toPlainText() == "print('🙂')"


def test_frames_arriving_faster_than_the_update_interval_are_shown_together(view_of, clock) -> None:
    view = view_of(message(finish_reason=STREAMING))
    view.append("```python\nx = 1\n", None)
    view.append("y = 2\n", None)
    assert view.body.views[0].code == "x = 1"
    clock.now += LIVE_UPDATE_INTERVAL
    view.append("z = 3\n", None)
    assert view.body.views[0].code == "x = 1\ny = 2\nz = 3"


def test_a_finished_message_takes_the_new_colours_when_the_desktop_turns_dark(view_of, qapp) -> None:
    from PySide6.QtCore import Qt

    from app.theme import chat_colors, palette_for

    view = view_of(message(content="```python\nx = 1\n```", finish_reason="stop"))
    light = qapp.palette()
    dark = palette_for(Qt.ColorScheme.Dark, qapp)
    qapp.setPalette(dark)
    try:
        QApplication.processEvents()
        assert chat_colors(dark).code_background in view.body.views[0].styleSheet()
    finally:
        qapp.setPalette(light)


def slow_renders(monkeypatch: pytest.MonkeyPatch, clock: Clock, seconds: float) -> None:
    render = MessageBrowser.set_markdown

    def slow_render(browser, *args, **kwargs) -> None:
        render(browser, *args, **kwargs)
        clock.now += seconds

    monkeypatch.setattr(MessageBrowser, "set_markdown", slow_render)


def test_slow_updates_of_the_block_being_written_come_less_often(view_of, clock, monkeypatch) -> None:
    view = view_of(message(finish_reason=STREAMING))
    view.append("A paragraph", None)
    slow_renders(monkeypatch, clock, 0.003)  # 3 ms each: at 1% of the time, one every 0.3 s
    for word in (" that", " grows"):
        clock.now += LIVE_UPDATE_INTERVAL
        view.append(word, None)
    clock.now += 0.2
    view.append(" and grows", None)
    assert view.body.views[0].toPlainText() == "A paragraph that grows"
    clock.now += 0.1
    view.append(".", None)
    assert view.body.views[0].toPlainText() == "A paragraph that grows and grows."


def test_one_slow_update_does_not_hold_the_next_back(view_of, clock, monkeypatch) -> None:
    view = view_of(message(finish_reason=STREAMING))
    view.append("A paragraph", None)
    clock.now += LIVE_UPDATE_INTERVAL
    view.append(" that", None)
    slow_renders(monkeypatch, clock, 0.06)
    clock.now += LIVE_UPDATE_INTERVAL
    view.append(" grows", None)
    clock.now += LIVE_UPDATE_INTERVAL
    view.append(".", None)
    assert view.body.views[0].toPlainText() == "A paragraph that grows."
