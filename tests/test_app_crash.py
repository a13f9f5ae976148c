"""A crash mid-answer: the app is killed while streaming; what was written up to the last save survives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from app.conversation import INTERRUPTED
from app.store import ConversationStore

CHILD = r"""
import asyncio, json, sys, time
from pathlib import Path
import qasync
from app.main import build_window, create_application
from app.context import AppContext
from app.chat.pane import ChatPane

app = create_application([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
data = Path(sys.argv[1])
(data / "settings.json").write_text(json.dumps({"temperature": 0.0, "max_tokens": 100000}))
context = AppContext.create(data)
window = build_window(context)
window.show()
pane = window.pane(ChatPane)

async def chat():
    await context.models.load(sys.argv[2])
    pane.send("Write a table")
    started = time.monotonic()
    while time.monotonic() - started < 2.5:
        await asyncio.sleep(0.05)
    print("streaming", len(pane.session.live_text), flush=True)
    await asyncio.sleep(3600)

loop.run_until_complete(chat())
"""


def test_an_answer_cut_off_by_a_crash_is_kept_and_marked_interrupted(tmp_path: Path, bigger_model: Path) -> None:
    """The bigger model: the tiny one can write a whole answer, up to its 2048-token context, in under 2.5 s."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(bigger_model)], env=env, stdout=subprocess.PIPE, text=True
    )
    try:
        line = child.stdout.readline()
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    assert line.startswith("streaming")
    store = ConversationStore(tmp_path / "conversations.sqlite3")
    (conversation,) = store.conversations()
    question, answer = store.thread(conversation.id)
    store.close()
    assert question.content == "Write a table"
    assert answer.finish_reason == INTERRUPTED and len(answer.content) > 20
