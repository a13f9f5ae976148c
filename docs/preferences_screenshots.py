"""Render the Preferences window offscreen to PNGs: the settings page, and the performance page during and
after an answer.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/preferences_screenshots.py [--out docs]

A small random-weight 4-bit model is built here (nothing is downloaded) and answers a few questions for real,
so the figures and plots show this machine's speeds.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import engine  # noqa: E402, F401 — picks the BLAS before the model factory imports MLX
from app.chat.pane import ChatPane  # noqa: E402
from app.context import AppContext  # noqa: E402
from bench.ui_stream_lag import run_in_window, wait_for  # noqa: E402
from tests.model_factory import ModelSpec, build_model  # noqa: E402

QUESTIONS = ("Hello there", "Write a table", "Tell me more")
SPEC = ModelSpec(bits=4, hidden_size=512, intermediate_size=1024, num_hidden_layers=4)


async def render(context: AppContext, window, model: Path, out: Path) -> None:
    await wait_for(context.models.load(model).done)
    pane = window.pane(ChatPane)
    preferences = window.show_preferences()
    await wait_for(preferences.isVisible)
    preferences.grab().save(str(out / "cabin-preferences.png"))
    for question in QUESTIONS:
        pane.send(question)
        await wait_for(lambda: not pane.session.busy)
    preferences.show_page("Performance")
    pane.send("Write a long story")
    await wait_for(lambda: len(pane.session.live_text) > 300 or not pane.session.busy)
    preferences.grab().save(str(out / "cabin-performance-live.png"))
    await wait_for(lambda: preferences.performance.answer_title.text() == "Last answer")
    preferences.grab().save(str(out / "cabin-performance.png"))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="cabin-prefs-shots-"))
    model = build_model(work / "small-llama-4bit", SPEC)
    settings = '{"temperature": 0.0, "max_tokens": 600}'
    run_in_window(work, settings, lambda context, window: render(context, window, model, args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
