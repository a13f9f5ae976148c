"""Fixtures for the desktop app's tests: one qasync loop for the session, a private data folder, and a
window over a real engine whose models are the tiny ones from conftest."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.context import AppContext

GREEDY = {"temperature": 0.0, "max_tokens": 24}


@pytest.fixture(scope="session")
def qt_loop(qapp):
    """One qasync loop, running whenever Qt processes events, never stopped (stopping it quits the app)."""
    import qasync

    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.events._set_running_loop(None)


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
    window.close()  # also a window never shown: closing stops its memory timer before the context goes
    window.context.close()


def load_model(qtbot, window, model: Path) -> None:
    task = window.context.models.load(model)
    qtbot.waitUntil(task.done, timeout=30_000)


@pytest.fixture
def window(make_window, llama_model: Path):
    """The main window with the tiny llama loaded."""
    return make_window(llama_model)
