"""Quitting the window in order: answers stop (the chat's is saved), the API server stops, then the engine."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import pytest

from engine.conversations.model import INTERRUPTED
from tests.app_fixtures import WAIT, chat_pane
from tests.test_server_app_toggle import fetch, switch


def read_stream(url: str, body: dict, started: threading.Event) -> list[bytes]:
    """Stream an API answer to its end: the lines received; `started` is set at the first one."""
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        lines = [response.readline()]
        started.set()
        return lines + response.readlines()


@pytest.fixture
def serving_window(qtbot, window):
    window.context.settings.set("api_port", 0)
    window.context.settings.set("max_tokens", 100_000)
    switch(qtbot, window, True)
    return window


def test_quitting_mid_answer_with_an_api_stream_open_ends_both_and_closes_the_port(qtbot, serving_window) -> None:
    control, pane = serving_window.api_server, chat_pane(serving_window)
    handle = control.handle
    body = {"model": serving_window.context.models.name, "messages": [{"role": "user", "content": "Hi"}],
            "max_tokens": 100_000, "stream": True}
    started = threading.Event()
    with ThreadPoolExecutor(1) as pool:
        stream = pool.submit(read_stream, f"{handle.url}/v1/chat/completions", body, started)
        qtbot.waitUntil(started.is_set, timeout=WAIT)
        pane.send("Write a table")
        serving_window.close()
        qtbot.waitUntil(control.task.done, timeout=WAIT)
        lines = stream.result(timeout=WAIT)
    answer = serving_window.context.store.thread(pane.session.conversation_id)[-1]
    serving_window.context.close()
    assert answer.finish_reason == "cancelled"
    assert b'"code":"generation_stopped"' in b"".join(lines)  # the client is told its answer was cut short
    assert handle.queued == 0
    with pytest.raises(urllib.error.URLError):
        fetch(f"{handle.url}/v1/models")


def test_an_answer_the_worker_cannot_end_in_time_is_saved_as_interrupted(qtbot, window) -> None:
    pane = chat_pane(window)
    gate = threading.Event()
    window.context.engine.submit(gate.wait)  # the worker is busy (as with a model load) until the gate opens
    pane.send("Write a table")
    pane.session.finish_now(timeout=0.1)
    gate.set()
    answer = window.context.store.thread(pane.session.conversation_id)[-1]
    assert answer.finish_reason == INTERRUPTED and not pane.session.busy
