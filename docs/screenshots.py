"""Render the main window offscreen to PNGs for the README and for looking at the UI.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/screenshots.py [--dark] [--out docs/cabin-chat.png]

A tiny random-weight model (built here, nothing downloaded) streams the last answer for real, so its
words are gibberish; the earlier turn is a seeded Markdown answer showing headings, a table and code.
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

QUESTION = "Compare Python's list and tuple, with a short example."
ANSWER = """## Lists and tuples

Both hold **ordered** sequences; the difference is *mutability*:

| Type  | Mutable | Hashable | Typical use            |
|-------|---------|----------|------------------------|
| list  | yes     | no       | a collection that grows |
| tuple | no      | yes      | a fixed record, a key  |

```python
point = (3, 4)            # a tuple: fixed fields
path = [point, (5, 12)]   # a list: add more later
path.append((8, 15))
distances = {p: (p[0] ** 2 + p[1] ** 2) ** 0.5 for p in path}
```

Use a tuple when the shape is fixed, and `list` when items come and go.
"""


def wait_until(condition, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("the window did not get there in time")
        QApplication.processEvents()
        time.sleep(0.005)


def seed(context: AppContext) -> str:
    store = context.store
    conversation = store.create_conversation("Lists and tuples", "You are a concise Python tutor.")
    question = store.add_message(conversation.id, None, "user", QUESTION)
    store.add_message(
        conversation.id, question.id, "assistant", ANSWER, model="Qwen2.5-7B-Instruct-4bit", finish_reason="stop",
        generated_tokens=187, generation_tps=41.6, ttft=0.182, prompt_tokens=64,
    )
    for title in ("Trip packing list", "Regex for ISO dates", "Summarise the meeting notes"):
        store.create_conversation(title)
    store.create_conversation("Lists and tuples")  # keeps the seeded one second from the top
    store.delete(store.conversations()[0].id)
    return conversation.id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("cabin-chat.png"))
    parser.add_argument("--dark", action="store_true")
    parser.add_argument("--model", type=Path, help="a model folder (default: a tiny one built here)")
    args = parser.parse_args()
    import qasync

    app = create_application()
    if args.dark:  # what apply_system_scheme does when the desktop is dark (offscreen Qt has no scheme)
        app.setPalette(palette_for(Qt.ColorScheme.Dark, app))
    loop = qasync.QEventLoop(app, already_running=True)
    asyncio.set_event_loop(loop)
    work = Path(tempfile.mkdtemp(prefix="cabin-shot-"))
    model = args.model or build_tiny_model(work / "tiny-model")
    (work / "settings.json").write_text('{"max_tokens": 60}')  # a short streamed answer leaves the seeded one in view
    context = AppContext.create(work)
    window = build_window(context)
    window.resize(1180, 820)
    window.show()
    pane = window.pane(ChatPane)
    conversation_id = seed(context)
    pane.refresh_conversations()
    pane.session.open(conversation_id)
    pane.refresh_conversations()
    context.models.load(model)
    wait_until(lambda: context.models.status is ModelStatus.READY)
    pane.composer.edit.setPlainText("And a named tuple?")
    pane.composer.button.click()
    wait_until(lambda: not pane.session.busy)
    pane.composer.edit.setPlainText("Show me how to sort a list of tuples by the second field")
    QApplication.processEvents()
    window.grab().save(str(args.out))
    print(f"wrote {args.out}")
    window.close()
    context.close()
    return 0


def build_tiny_model(dest: Path) -> Path:
    from tests.model_factory import ModelSpec, build_model

    return build_model(dest, ModelSpec(hidden_size=64, seed=3))


if __name__ == "__main__":
    sys.exit(main())
