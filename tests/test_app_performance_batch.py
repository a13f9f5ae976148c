"""The performance view's batch box: requests running together, their aggregate tok/s and KV-cache memory."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.generation import SamplingSettings
from engine.generation.batch_policy import BatchStatus
from engine.generation.kv_room import KVRoom
from engine.messages import system, user
from tests.app_fixtures import WAIT, chat_pane
from tests.test_app_preferences_performance import number


@pytest.fixture
def performance(window):
    return window.show_preferences("Performance").performance


def api_like_answers(window, n: int) -> list:
    """Answers asked of the engine beside the window's, as the local API asks them (no conversation)."""
    settings = SamplingSettings(temperature=0.0, max_tokens=100_000)
    return [window.context.engine.chat([system("You are a helpful AI assistant."), user(f"Story {i}")], settings, None)
            for i in range(n)]


def batch_shown(performance, running: int) -> bool:
    performance.monitor.poll()
    return performance.batch_box.running_figure.value.text() == str(running)


def test_the_window_answer_and_two_api_answers_show_as_a_batch_of_three(qtbot, window, performance) -> None:
    window.context.settings.set("max_tokens", 100_000)
    others = api_like_answers(window, 2)
    chat_pane(window).send("Write a long story")
    qtbot.waitUntil(lambda: batch_shown(performance, 3), timeout=WAIT)
    box = performance.batch_box
    qtbot.waitUntil(lambda: box.rate_figure.value.text() != "–" and number(box.rate_figure.value.text()) > 0,
                    timeout=WAIT)
    assert number(box.kv_figure.value.text()) > 0
    window.context.engine.stop_answers()
    for generation in others:
        generation.result(timeout=60)
    qtbot.waitUntil(lambda: not chat_pane(window).session.busy, timeout=WAIT)
    qtbot.waitUntil(lambda: batch_shown(performance, 0), timeout=WAIT)
    assert box.rate_figure.value.text() == "–"


def test_a_paused_draft_model_is_said_in_the_box(qtbot) -> None:
    from app.performance.batch_box import BatchBox

    box = BatchBox()
    qtbot.addWidget(box)
    box.show_status(BatchStatus(3, 42.0, 2**20, "speculative decoding paused: 3 requests batched"), KVRoom(2**30, 1024, True),
                    loaded=True)
    assert not box.note_label.isHidden()
    assert box.note_label.text() == "speculative decoding paused: 3 requests batched"
    assert "about 1,048,576 tokens of context" in box.about_label.text()


def test_a_model_that_cannot_batch_says_answers_run_one_at_a_time(qtbot) -> None:
    from app.performance.batch_box import BatchBox

    box = BatchBox()
    qtbot.addWidget(box)
    box.show_status(BatchStatus(), KVRoom(2**30, 1024, batches=False), loaded=True)
    assert box.about_label.text().startswith("Answers run one at a time")
    assert box.note_label.isHidden()


def test_the_view_renders_a_real_batch(qtbot, make_window, smollm2_model: Path, tmp_path: Path) -> None:
    window = make_window(smollm2_model)
    window.context.settings.set("max_tokens", 100_000)
    performance = window.show_preferences("Performance").performance
    others = api_like_answers(window, 3)
    chat_pane(window).send("Write a long story about a lighthouse keeper.")
    qtbot.waitUntil(lambda: batch_shown(performance, 4), timeout=WAIT)
    qtbot.waitUntil(lambda: performance.batch_box.rate_figure.value.text() != "–", timeout=WAIT)
    qtbot.wait(2500)
    performance.monitor.poll()
    window.preferences.resize(1000, 1100)
    assert window.preferences.grab().save(str(tmp_path / "batch.png"))
    window.context.engine.stop_answers()
    for generation in others:
        generation.result(timeout=60)
    qtbot.waitUntil(lambda: not chat_pane(window).session.busy, timeout=WAIT)
