"""The window's "Serve Local API" switch: the server runs on the window's qasync loop and shares its model."""

from __future__ import annotations

import json
import socket
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.app_fixtures import close_window
from tests.test_app_chat import WAIT, chat_pane, send


def fetch(url: str, body: dict | None = None) -> dict:
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(urllib.request.Request(url, data), timeout=60) as response:
        return json.loads(response.read())


def fetch_in_background(qtbot, url: str, body: dict | None = None) -> dict:
    """Call the server from another thread: it answers on this (the Qt) thread's loop."""
    with ThreadPoolExecutor(1) as pool:
        future = pool.submit(fetch, url, body)
        qtbot.waitUntil(future.done, timeout=WAIT)
        return future.result()


def switch(qtbot, window, on: bool) -> None:
    control = window.api_server
    control.action.setChecked(on)
    qtbot.waitUntil(control.task.done, timeout=WAIT)


@pytest.fixture
def serving_window(qtbot, window):
    window.context.settings.set("api_port", 0)
    switch(qtbot, window, True)
    return window


def test_switching_the_api_on_serves_the_windows_model_and_shows_the_address(qtbot, serving_window) -> None:
    control = serving_window.api_server
    assert control.label.isVisible() and control.handle.url in control.label.text()
    models = fetch_in_background(qtbot, f"{control.handle.url}/v1/models")
    assert [m["id"] for m in models["data"]] == [serving_window.context.models.name]


def test_api_requests_and_the_chat_share_the_engine(qtbot, serving_window) -> None:
    control = serving_window.api_server
    body = {"model": serving_window.context.models.name, "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4,
            "temperature": 0}
    answer = fetch_in_background(qtbot, f"{control.handle.url}/v1/chat/completions", body)
    send(qtbot, chat_pane(serving_window), "Hello")
    assert answer["usage"]["completion_tokens"] == 4
    assert chat_pane(serving_window).session.thread[-1].finish_reason in ("stop", "length")
    assert "1 request served" in control.label.text()


def test_a_request_for_another_model_is_refused_and_the_window_keeps_its_own(
    qtbot, serving_window, qwen2_model: Path
) -> None:
    from engine.models import local

    local.add_folder(qwen2_model)
    body = {"model": "tiny-qwen2", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}
    with pytest.raises(urllib.error.HTTPError) as error:
        fetch_in_background(qtbot, f"{serving_window.api_server.handle.url}/v1/chat/completions", body)
    assert error.value.code == 409
    assert "choose tiny-qwen2 in the Cabin window" in json.loads(error.value.read())["error"]["message"]
    assert serving_window.context.engine.model_info.name == serving_window.context.models.name


def test_switching_it_off_closes_the_port(qtbot, serving_window) -> None:
    url = serving_window.api_server.handle.url
    switch(qtbot, serving_window, False)
    assert not serving_window.api_server.label.isVisible()
    with pytest.raises(urllib.error.URLError):
        fetch(f"{url}/v1/models")


def test_a_port_in_use_switches_it_back_off_with_the_reason(qtbot, window) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        window.context.settings.set("api_port", taken.getsockname()[1])
        switch(qtbot, window, True)
    control = window.api_server
    assert not control.action.isChecked() and control.handle is None
    assert control.label.text().startswith("Local API off: cannot listen on 127.0.0.1:")


def test_the_switch_is_remembered_at_the_next_start(qtbot, make_window, llama_model: Path) -> None:
    first = make_window(llama_model)
    first.context.settings.set("api_port", 0)
    switch(qtbot, first, True)
    close_window(first)
    qtbot.waitUntil(first.api_server.task.done, timeout=WAIT)
    second = make_window(llama_model)
    second.api_server.restore()
    qtbot.waitUntil(lambda: second.api_server.handle is not None, timeout=WAIT)
    switch(qtbot, second, False)


def test_the_window_and_its_file_menu_render_with_the_api_on(qtbot, serving_window, tmp_path: Path) -> None:
    serving_window.resize(1100, 760)
    send(qtbot, chat_pane(serving_window), "Hello")
    menu = serving_window.menus["File"]
    menu.popup(serving_window.mapToGlobal(serving_window.rect().topLeft()))
    qtbot.waitUntil(menu.isVisible, timeout=WAIT)
    shots = {"window-api-on.png": serving_window.grab(), "file-menu.png": menu.grab()}
    menu.hide()
    for name, pixmap in shots.items():
        assert pixmap.save(str(tmp_path / name)) and not pixmap.isNull()
