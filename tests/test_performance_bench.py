"""The Performance view's Benchmark box: llama-bench's table for the loaded model (the real SmolLM2 GGUF on
llama.cpp), Compare with its MLX import, Cancel, and no benchmark while an answer is being written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from engine.bench import BenchPlan
from tests.app_fixtures import WAIT, chat_pane

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

SHORT = BenchPlan(prompt_tokens=32, generate=8, repeats=2)
TPS = re.compile(r"\d+\.\d\d ± \d+\.\d\d")


def cells(box, column: int) -> list[str]:
    return [box.table.item(row, column).text() for row in range(box.table.rowCount())]


def bench_box_of(window, plan: BenchPlan = SHORT):
    box = window.show_preferences("Performance").performance.bench_box
    box.plan = plan
    return box


def test_the_benchmark_button_shows_llama_benchs_table(qtbot, smollm2_window, tmp_path: Path) -> None:
    box = bench_box_of(smollm2_window)
    box.run_button.click()
    qtbot.waitUntil(lambda: box.table.rowCount() == 2, timeout=4 * WAIT)
    headers = [box.table.horizontalHeaderItem(c).text() for c in range(box.table.columnCount())]
    assert headers == ["model", "size", "params", "backend", "threads", "test", "t/s"]
    assert cells(box, 5) == ["pp32", "tg8"] and cells(box, 3) == ["llama.cpp CPU"] * 2
    assert all(TPS.fullmatch(text) for text in cells(box, 6))
    assert box.run_button.isEnabled() and not box.cancel_button.isVisible()
    assert smollm2_window.preferences.grab().save(str(tmp_path / "benchmark.png"))


def test_compare_shows_both_backends_and_their_ratio(qtbot, smollm2_window) -> None:
    box = bench_box_of(smollm2_window)
    assert box.compare_button.isVisible()
    box.compare_button.click()
    qtbot.waitUntil(lambda: box.table.rowCount() == 4, timeout=8 * WAIT)
    assert cells(box, 3) == ["llama.cpp CPU"] * 2 + ["MLX cpu"] * 2
    assert re.fullmatch(r"<b>llama\.cpp / MLX: pp32 \d+\.\d\d×, tg8 \d+\.\d\d×</b>", box.ratio_label.text())


def test_cancel_ends_a_benchmark_and_says_so(qtbot, smollm2_window) -> None:
    box = bench_box_of(smollm2_window, BenchPlan(prompt_tokens=32, generate=4000, repeats=50))
    box.run_button.click()
    box.cancel_button.click()
    qtbot.waitUntil(lambda: not box.running, timeout=WAIT)
    assert box.status.text() == "benchmark cancelled" and box.table.rowCount() == 0 and box.run_button.isEnabled()


def test_no_benchmark_starts_while_an_answer_is_being_written(qtbot, smollm2_window) -> None:
    smollm2_window.context.settings.set("max_tokens", 100_000)
    view = smollm2_window.show_preferences("Performance").performance
    pane = chat_pane(smollm2_window)
    pane.send("Write a long story")

    def writing() -> bool:
        view.monitor.poll()
        return view.monitor.activity.generating

    qtbot.waitUntil(writing, timeout=WAIT)
    qtbot.waitUntil(lambda: not view.bench_box.run_button.isEnabled(), timeout=WAIT)
    pane.session.stop()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    qtbot.waitUntil(lambda: not writing() and view.bench_box.run_button.isEnabled(), timeout=WAIT)


def test_compare_is_offered_only_for_a_gguf(window) -> None:
    box = bench_box_of(window)
    assert box.run_button.isVisibleTo(box) and not box.compare_button.isVisibleTo(box)
