"""`cabin serve` run as a user runs it: serve until Ctrl-C, one log line per answer, one-line errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import openai
import pytest

CABIN = [sys.executable, "-m", "cabin"]


@pytest.fixture
def serve_cli(llama_model: Path) -> Iterator[Callable[..., tuple[subprocess.Popen, str]]]:
    """Start `cabin serve --model <tiny llama> --port 0 ARGS...`: (process, base URL); killed at the end if still up."""
    started: list[subprocess.Popen] = []

    def start(*args: str) -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen([*CABIN, "serve", "--model", str(llama_model), "--port", "0", *args],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                   env=os.environ | {"PYTHONUNBUFFERED": "1"})
        started.append(process)
        return process, re.search(r"at (http://\S+) —", process.stdout.readline()).group(1)

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
            process.wait()


@pytest.fixture
def served(serve_cli: Callable[..., tuple[subprocess.Popen, str]]) -> tuple[subprocess.Popen, str]:
    return serve_cli()


def test_serve_answers_until_interrupted_and_logs_each_answer(served: tuple[subprocess.Popen, str]) -> None:
    process, url = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    answer = client.chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=3,
                                            temperature=0)
    assert answer.usage.completion_tokens == 3
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert re.search(r"^/v1/chat/completions · 3 tokens at [\d.]+ tok/s · prompt \d+ tokens", stderr, re.MULTILINE)


def test_sigterm_stops_the_server_cleanly(served: tuple[subprocess.Popen, str]) -> None:
    process, _ = served
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=60)
    assert process.returncode == 0


def test_a_port_in_use_is_one_line_and_exit_1(llama_model: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run([*CABIN, "serve", "--model", str(llama_model), "--port", str(port)],
                                capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert re.fullmatch(rf"cabin: error: cannot listen on 127\.0\.0\.1:{port}: .+\n", result.stderr)


def test_listening_beyond_this_machine_without_a_key_warns(serve_cli: Callable[..., tuple[subprocess.Popen, str]]) -> None:
    process, _ = serve_cli("--host", "0.0.0.0")
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "cabin: warning: listening on 0.0.0.0 without --api-key" in stderr


def test_a_bad_port_is_a_usage_error() -> None:
    assert subprocess.run([*CABIN, "serve", "--model", "m", "--port", "70000"], capture_output=True).returncode == 2


def test_a_keep_alive_that_is_no_duration_is_a_usage_error() -> None:
    result = subprocess.run([*CABIN, "serve", "--model", "m", "--keep-alive", "soon"], capture_output=True, text=True)
    assert result.returncode == 2 and "soon is not a duration like 5m" in result.stderr


def test_serve_unloads_an_idle_model_after_its_keep_alive(serve_cli: Callable[..., tuple[subprocess.Popen, str]]) -> None:
    import ollama

    _, url = serve_cli("--keep-alive", "0")
    client = ollama.Client(host=url)
    client.chat(model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], options={"num_predict": 2})
    deadline = time.monotonic() + 60
    while client.ps().models:
        assert time.monotonic() < deadline, "the model was never unloaded"
        time.sleep(0.02)
