"""A crash mid-answer: the app is killed while streaming; what was written up to the last save survives."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from engine.conversations.model import INTERRUPTED
from engine.conversations.store import ConversationStore
from tests.model_factory import ModelSpec, build_model

CHILD = r"""
import asyncio, json, sqlite3, sys
from pathlib import Path
import qasync
from app.main import build_window, create_application
from app.context import AppContext
from app.chat.pane import ChatPane

app = create_application([])
loop = qasync.QEventLoop(app)
asyncio.set_event_loop(loop)
data = Path(sys.argv[1])
(data / "settings.json").write_text(json.dumps({"temperature": 0.0, "max_tokens": 100000, "context_length": 65536}))
context = AppContext.create(data)
window = build_window(context)
window.show()
pane = window.pane(ChatPane)

async def chat():
    await context.models.load(sys.argv[2])
    pane.send("Write a table")
    saved = sqlite3.connect(data / "conversations.sqlite3")
    while pane.session.busy and saved_length(saved) <= 20:  # a few of the once-a-second saves are on disk
        await asyncio.sleep(0.05)
    print("streaming" if pane.session.busy else "finished", flush=True)
    await asyncio.sleep(3600)

def saved_length(saved):
    row = saved.execute("SELECT coalesce(length(json_extract(parts, '$[0].text')), 0) FROM messages WHERE role='assistant' AND finish_reason='streaming'")
    return (row.fetchone() or (0,))[0]

loop.run_until_complete(chat())
"""


@pytest.fixture(scope="module")
def long_context_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A model trained (so to speak) for 64K tokens: its answer outlasts the test, however fast the machine."""
    return build_model(tmp_path_factory.mktemp("models") / "long-context", ModelSpec(context_length=65536))


def test_an_answer_cut_off_by_a_crash_is_kept_and_marked_interrupted(tmp_path: Path, long_context_model: Path) -> None:
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), str(long_context_model)], env=env, stdout=subprocess.PIPE, text=True
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
    assert question.text == "Write a table"
    assert answer.finish_reason == INTERRUPTED and len(answer.text) > 20
