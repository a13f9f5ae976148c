"""Every way out exits 0: `cabin chat`, the app quitting mid-answer, `--selftest`, and `cabin serve` on a signal.

An MLX worker thread that ends while Python finalizes runs MLX's thread-local destructors against a
dying interpreter and aborts the process (exit 134) in some runs only, so the chat runs repeat.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

CABIN = [sys.executable, "-m", "cabin"]
RUNS = 10
WAIT = 120
"""Seconds a child process gets to start up or exit before the test fails (never hangs)."""


def child_env(**extra: str) -> dict[str, str]:
    return os.environ | {"PYTHONUNBUFFERED": "1", "QT_QPA_PLATFORM": "offscreen"} | extra


@pytest.mark.parametrize("fixture", ["gemma3_base_4bit_model", "llama_4bit_model"])
def test_chat_exits_0_every_time(fixture: str, request: pytest.FixtureRequest) -> None:
    model = request.getfixturevalue(fixture)
    command = [*CABIN, "chat", "--model", str(model), "--prompt", "Hi", "--max-tokens", "5"]
    codes = [subprocess.run(command, capture_output=True, env=child_env(), timeout=WAIT).returncode for _ in range(RUNS)]
    assert codes == [0] * RUNS


def test_the_selftest_with_a_gemma3_model_exits_0(gemma3_base_4bit_model: Path) -> None:
    result = subprocess.run([*CABIN, "--selftest", str(gemma3_base_4bit_model)], capture_output=True, text=True,
                            env=child_env(), timeout=WAIT * 2)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_serve_exits_0_on_a_signal_after_answering(gemma3_base_4bit_model: Path, signum: int) -> None:
    process = subprocess.Popen([*CABIN, "serve", "--model", str(gemma3_base_4bit_model), "--port", "0"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=child_env())
    try:
        url = re.search(r"at (http://\S+) —", process.stdout.readline()).group(1)
        body = {"model": gemma3_base_4bit_model.name, "prompt": "Hi", "max_tokens": 4, "stream": False}
        answer = post(f"{url}/v1/completions", body)
        process.send_signal(signum)
        _, stderr = process.communicate(timeout=WAIT)
    finally:
        process.kill()
    assert answer["usage"]["completion_tokens"] >= 1
    assert process.returncode == 0, stderr


def test_the_app_quits_with_exit_0_mid_answer_with_an_api_stream_open(tmp_path: Path, gemma3_base_4bit_model: Path) -> None:
    port = free_port()
    settings = {"last_model": str(gemma3_base_4bit_model), "api_server": True, "api_port": port,
                "temperature": 0.0, "max_tokens": 100_000, "context_length": 65_536}
    (tmp_path / "settings.json").write_text(json.dumps(settings))
    app = subprocess.Popen(CABIN, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           env=child_env(CABIN_DATA_DIR=str(tmp_path)))
    try:
        wait_for_model(f"http://127.0.0.1:{port}", app)
        body = {"model": gemma3_base_4bit_model.name, "prompt": "Hi", "max_tokens": 100_000, "stream": True}
        stream = open_stream(f"http://127.0.0.1:{port}/v1/completions", body)
        first = stream.readline()
        app.send_signal(signal.SIGTERM)
        _, stderr = app.communicate(timeout=WAIT)
        rest = stream.read()
    finally:
        app.kill()
    assert first.startswith(b"data: ")
    assert app.returncode == 0, stderr
    assert "Traceback" not in stderr and "exception calling callback" not in stderr, stderr
    assert b"[DONE]" not in rest  # the answer was cut short by the quit, not finished


def post(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=WAIT) as response:
        return json.loads(response.read())


def open_stream(url: str, body: dict):
    request = urllib.request.Request(url, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return urllib.request.urlopen(request, timeout=WAIT)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for_model(url: str, app: subprocess.Popen) -> None:
    """Until the app's API lists a model (the window loads the last used one at start)."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline and app.poll() is None:
        try:
            with urllib.request.urlopen(f"{url}/v1/models", timeout=5) as response:
                if json.loads(response.read())["data"]:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    pytest.fail(f"the app's API never listed a model (exit code {app.poll()})")
