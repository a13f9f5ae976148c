"""What the live performance view costs while answers stream through the real window (offscreen).

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/performance_view_overhead.py [--model DIR] [--tokens 1000] [--rounds 10]

Alternating rounds in one run, same model, prompt and token count, greedy:
raw `mlx_lm.stream_generate` · the window with Preferences closed · the window with the Performance page
open (polling at 2 Hz and repainting its figures, plots and table). Prints decode tok/s and the ratios
to raw mlx_lm, the UI event-loop lag with the view open, and the cost of one reading and one repaint.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.chat.pane import ChatPane  # noqa: E402
from app.context import AppContext  # noqa: E402
from bench.ui_stream_lag import (  # noqa: E402
    LagProbe,
    lag_line,
    load_bench_model,
    raw_mlx_lm,
    run_bench,
    window_answer,
)


def millis_per_call(fn, repeat: int = 50) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - start) * 1000 / repeat


async def bench(args: argparse.Namespace, context: AppContext, window) -> None:
    pane = window.pane(ChatPane)
    await load_bench_model(context, args.model)
    probe = LagProbe()
    await window_answer(pane, probe)  # warm-up
    preferences = window.show_preferences("Performance")
    await window_answer(pane, probe)
    runs: dict[str, list[float]] = {"raw": [], "closed": [], "open": []}
    open_lag: list[float] = []
    for round_number in range(args.rounds):
        runs["raw"].append((await raw_mlx_lm(context, args.tokens, probe))[0])
        preferences.close()
        runs["closed"].append((await window_answer(pane, probe))[0])
        window.show_preferences("Performance")
        polls = len(preferences.performance.monitor.history)
        tps, _tokens, lateness = await window_answer(pane, probe)
        runs["open"].append(tps)
        open_lag += lateness
        polls = len(preferences.performance.monitor.history) - polls
        print(f"round {round_number + 1}: mlx_lm {runs['raw'][-1]:7.1f} · Preferences closed {runs['closed'][-1]:7.1f} · "
              f"Performance open {tps:7.1f} tok/s ({polls} readings during the answer)")
    raw, closed, opened = (statistics.median(runs[k]) for k in ("raw", "closed", "open"))
    view = preferences.performance
    print(f"\nmodel {context.models.name}, up to {args.tokens} tokens, {args.rounds} rounds (medians)")
    print(f"decode: Preferences closed {closed / raw:.3f}x raw mlx_lm · Performance open {opened / raw:.3f}x raw · "
          f"open/closed {opened / closed:.3f}x")
    print(lag_line("UI lag, view open:", open_lag))
    print(f"one reading (engine.memory + activity): {millis_per_call(lambda: (context.engine.memory(), context.engine.activity())):.3f} ms")
    print(f"one refresh of the view (figures, plots): {millis_per_call(lambda: (view.refresh(), view.repaint())):.2f} ms")


if __name__ == "__main__":
    sys.exit(run_bench(bench, __doc__, "cabin-perf-view-bench-"))
