"""The performance view: tok/s, time to first token and memory after an answer, polling only while shown,
Reset Peak, the model's compute plan and BLAS, and the plots."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.performance.figures import memory_title
from app.performance.monitor import BUSY_INTERVAL_MS
from app.performance.sparkline import Line, Sparkline
from engine import blas
from tests.app_fixtures import WAIT, chat_pane, send


def number(text: str) -> float:
    return float(text.split()[0].replace(",", ""))


@pytest.fixture
def performance(window):
    return window.show_preferences("Performance").performance


def shows_writing(performance) -> bool:
    """Ask for a reading now (the view polls only every second while idle) and say whether it shows an answer being written."""
    performance.monitor.poll()
    return performance.answer_title.text() == "Writing an answer now…"


def answer(qtbot, window, performance, text: str = "Hello") -> None:
    answers = performance.monitor.activity.answers
    send(qtbot, chat_pane(window), text)
    qtbot.waitUntil(lambda: performance.monitor.activity.answers > answers, timeout=WAIT)


def test_after_an_answer_the_view_shows_its_speed_and_memory(qtbot, window, performance) -> None:
    answer(qtbot, window, performance)
    assert performance.answer_title.text() == "Last answer"
    assert number(performance.generation_figure.value.text()) > 0
    assert number(performance.prompt_figure.value.text()) > 0
    assert number(performance.ttft_figure.value.text()) > 0
    assert performance.active_figure.value.text() != "0 B"
    assert performance.monitor.memory.active > 0 and performance.monitor.memory.system.total > 0


def test_each_answer_adds_a_row_and_a_point(qtbot, window, performance) -> None:
    answer(qtbot, window, performance, "Hello")
    answer(qtbot, window, performance, "Again")
    assert performance.table.rowCount() == 2
    assert len(performance.generation_plot.lines[0].values) == 2
    assert performance.table.item(0, 7).text() in ("stop", "length")


def test_the_answer_in_progress_is_shown_live(qtbot, window, performance) -> None:
    window.context.settings.set("max_tokens", 100_000)
    pane = chat_pane(window)
    pane.send("Write a long story")
    qtbot.waitUntil(lambda: shows_writing(performance), timeout=WAIT)
    assert performance.monitor._timer.interval() == BUSY_INTERVAL_MS
    pane.session.stop()
    qtbot.waitUntil(lambda: performance.answer_title.text() == "Last answer", timeout=WAIT)


def test_context_use_is_shown_against_the_context_length(qtbot, window, performance) -> None:
    answer(qtbot, window, performance)
    assert "of 2,048 tokens" in performance.context_figure.detail.text()


def test_memory_is_plotted_over_time(qtbot, window, performance) -> None:
    answer(qtbot, window, performance)
    qtbot.waitUntil(lambda: len(performance.monitor.history) >= 2, timeout=WAIT)
    active = performance.mlx_plot.lines[0]
    assert active.name == "active" and active.values[-1] > 0


def test_reset_peak_brings_the_peak_down_to_current_use(qtbot, window, performance) -> None:
    answer(qtbot, window, performance)
    before = performance.monitor.memory.peak
    performance.reset_peak_button.click()
    qtbot.waitUntil(lambda: performance.monitor.memory.peak < before, timeout=WAIT)


def test_the_view_polls_only_while_it_is_shown(window, performance) -> None:
    assert performance.monitor.running
    window.preferences.close()
    assert not performance.monitor.running


def test_the_loaded_model_its_weights_compute_plan_and_blas_are_shown(qtbot, window, performance, llama_4bit_model: Path) -> None:
    task = window.context.models.load(llama_4bit_model)
    qtbot.waitUntil(task.done, timeout=WAIT)
    assert "4-bit" in performance.model_label.text()
    assert performance.plan_label.text().startswith("Compute: float32")
    assert str(blas.ACTIVE) in performance.blas_label.text()
    assert "on disk" in performance.weights_figure.detail.text()


def test_memory_is_called_unified_on_a_mac_and_ram_elsewhere() -> None:
    assert memory_title("darwin") == "Unified memory"
    assert memory_title("linux") == "Memory (system RAM)"


def test_the_pane_renders_during_and_after_an_answer(qtbot, window, performance, tmp_path: Path) -> None:
    window.context.settings.set("max_tokens", 100_000)
    pane = chat_pane(window)
    pane.send("Write a long story")
    qtbot.waitUntil(lambda: shows_writing(performance), timeout=WAIT)
    assert window.preferences.grab().save(str(tmp_path / "during.png"))
    pane.session.stop()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    assert window.preferences.grab().save(str(tmp_path / "after.png"))


def test_a_sparkline_shows_the_latest_values_in_its_tooltip(qtbot) -> None:
    plot = Sparkline("Speed", lambda v: f"{v:.0f}", capacity=10)
    qtbot.addWidget(plot)
    plot.set_lines([Line("a", plot.palette().text().color(), [1.0, 5.0, 3.0])])
    assert plot.toolTip() == "a: 3" and plot.latest() == [3.0]
    assert not plot.grab().isNull()


def test_an_empty_sparkline_says_so(qtbot) -> None:
    plot = Sparkline("Speed", str, capacity=10)
    qtbot.addWidget(plot)
    plot.set_lines([])
    assert not plot.grab().isNull() and plot.latest() == []
