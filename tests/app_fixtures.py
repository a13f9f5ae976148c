"""Fixtures for the desktop app's tests: one qasync loop for the session, a private data folder, and a
window over a real engine whose models are the tiny ones from conftest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.chat.pane import ChatPane
from app.context import AppContext

GREEDY = {"temperature": 0.0, "max_tokens": 24}
WAIT = 30_000
"""Milliseconds a test waits for an answer or a model load before failing (never hangs)."""


@pytest.fixture(scope="session")
def qasync_loop(qapp):
    """One qasync loop for the session, never stopped (stopping it quits the QApplication)."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.events._set_running_loop(None)
    return loop


@pytest.fixture
def qt_loop(qasync_loop):
    """The qasync loop, marked running only during this test: other tests may call asyncio.run()."""
    asyncio.set_event_loop(qasync_loop)
    asyncio.events._set_running_loop(qasync_loop)
    yield qasync_loop
    asyncio.events._set_running_loop(None)
    asyncio.set_event_loop(None)


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cabin-data"
    folder.mkdir()
    (folder / "settings.json").write_text(json.dumps(GREEDY))
    monkeypatch.setenv("CABIN_DATA_DIR", str(folder))
    return folder


@pytest.fixture
def make_window(qtbot, qt_loop, data_dir: Path) -> Iterator:
    """Open main windows on `data_dir` (several in turn for restart tests); all are closed at teardown."""
    from app.main import build_window, create_application

    create_application()
    opened = []

    def make(model: Path | None = None):
        context = AppContext.create(data_dir)
        window = build_window(context)
        qtbot.addWidget(window)
        window.show()
        opened.append(window)
        if model is not None:
            load_model(qtbot, window, model)
        return window

    yield make
    for window in opened:
        close_window(window)


def close_window(window) -> None:
    """Close as the user would (saving state, stopping timers; also a window never shown), then stop the engine."""
    window.close()
    window.context.close()


def load_model(qtbot, window, model: Path) -> None:
    task = window.context.models.load(model)
    qtbot.waitUntil(task.done, timeout=WAIT)


def chat_pane(window) -> ChatPane:
    return window.pane(ChatPane)


def send(qtbot, pane: ChatPane, text: str) -> None:
    """Type `text`, press Send and wait for the whole answer."""
    pane.composer.edit.setPlainText(text)
    pane.composer.button.click()
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)


@pytest.fixture
def window(make_window, llama_model: Path):
    """The main window with the tiny llama loaded."""
    return make_window(llama_model)


@pytest.fixture
def smollm2_window(make_window, smollm2_gguf: Path):
    """The main window with the real SmolLM2 GGUF loaded as it is (on llama.cpp)."""
    return make_window(smollm2_gguf)


@pytest.fixture
def make_pane(qtbot, engine):
    """Open Models panes over a real engine, shown at window size, their first listing done; jobs stopped at teardown."""
    from app.models.pane import ModelsPane

    panes = []

    def make() -> ModelsPane:
        pane = ModelsPane(engine)
        qtbot.addWidget(pane)
        pane.resize(1100, 760)
        pane.show()
        qtbot.waitUntil(lambda: not pane.watcher.busy, timeout=WAIT)
        panes.append(pane)
        return pane

    yield make
    for pane in panes:
        pane.shutdown()
        qtbot.waitUntil(lambda p=pane: p.job is None, timeout=WAIT)


def add_folder_and_wait(qtbot, pane, folder: Path) -> None:
    """Add `folder` to the open chat's documents and wait until it is indexed."""
    pane.documents.add_paths(pane.session.conversation_id, [folder])
    qtbot.waitUntil(lambda: (p := pane.documents.progress.get(folder.name)) is not None and p.finished, timeout=WAIT)
