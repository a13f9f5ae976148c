"""`cabin serve` run as a user runs it: serve until Ctrl-C, one log line per answer, one-line errors."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

CABIN = [sys.executable, "-m", "engine.cli"]


def start_serving(*args: str) -> subprocess.Popen:
    return subprocess.Popen([*CABIN, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=os.environ | {"PYTHONUNBUFFERED": "1"})


@pytest.fixture
def served(llama_model: Path) -> Iterator[tuple[subprocess.Popen, str]]:
    process = start_serving("--model", str(llama_model), "--port", "0")
    banner = process.stdout.readline()
    url = re.search(r"at (http://\S+) —", banner).group(1)
    yield process, url
    if process.poll() is None:
        process.kill()
        process.wait()


def test_serve_answers_until_interrupted_and_logs_each_answer(served: tuple[subprocess.Popen, str]) -> None:
    process, url = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
    answer = client.chat.completions.create(model="tiny-llama", messages=[{"role": "user", "content": "Hi"}], max_tokens=3)
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


def test_listening_beyond_this_machine_without_a_key_warns(llama_model: Path) -> None:
    process = start_serving("--model", str(llama_model), "--port", "0", "--host", "0.0.0.0")
    process.stdout.readline()
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=60)
    assert "cabin: warning: listening on 0.0.0.0 without --api-key" in stderr


def test_a_bad_port_is_a_usage_error() -> None:
    assert subprocess.run([*CABIN, "serve", "--model", "m", "--port", "70000"], capture_output=True).returncode == 2
