"""Many clients at once, clients that leave mid-answer, and a server that stops mid-answer."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from urllib.parse import urlsplit

import openai
import pytest

from engine.generation import Engine, SamplingSettings
from engine.messages import Message, user
from engine.server.request_queue import RequestQueue, Served
from tests.conftest import LiveServer

MODEL = "tiny-llama"


def question(n: int) -> list[dict[str, str]]:
    return [{"role": "user", "content": f"Question number {n}: tell me about boats"}]


def asked(n: int) -> list[Message]:
    """The same question, as the engine takes it."""
    return [user(question(n)[0]["content"])]


def open_stream(server: LiveServer, path: str, body: dict) -> socket.socket:
    """A raw HTTP request whose answer is left unread: the client can vanish whenever it likes."""
    url = urlsplit(server.url)
    payload = json.dumps(body).encode()
    sock = socket.create_connection((url.hostname, url.port), timeout=60)
    sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {url.hostname}\r\nContent-Type: application/json\r\n"
                 f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
    return sock


def read_until(sock: socket.socket, marker: bytes) -> bytes:
    received = b""
    while marker not in received:
        chunk = sock.recv(4096)
        assert chunk, f"connection closed before {marker!r}"
        received += chunk
    return received


def answered(activity: list[Served]) -> list[Served]:
    """The API answers that ran to their end (not stopped by a client leaving)."""
    return [served for served in activity if served.finished.finish_reason != "cancelled"]


def wait_for(condition: Callable[[], bool], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_twenty_concurrent_requests_are_all_answered_correctly(api_server: LiveServer) -> None:
    client = api_server.openai()

    def ask(n: int) -> str:
        completion = client.chat.completions.create(model=MODEL, messages=question(n), max_tokens=8, temperature=0)
        return completion.choices[0].message.content

    with ThreadPoolExecutor(max_workers=20) as pool:
        answers = list(pool.map(ask, range(20)))
    settings = SamplingSettings(temperature=0, max_tokens=8)
    expected = [api_server.engine.chat(asked(n), settings, f"check-{n}").result().text for n in range(20)]
    assert answers == expected
    assert len(api_server.handle.activity) == 20


def test_a_client_that_disconnects_mid_stream_stops_its_generation(api_server: LiveServer) -> None:
    body = {"model": MODEL, "messages": question(0), "max_tokens": 100_000, "temperature": 0, "stream": True}
    sock = open_stream(api_server, "/v1/chat/completions", body)
    read_until(sock, b"data: ")
    sock.close()
    wait_for(lambda: len(api_server.handle.activity) == 1)
    finished = api_server.handle.activity[-1].finished
    assert finished.finish_reason == "cancelled"
    assert finished.stats.generated_tokens < 100_000
    assert api_server.handle.queued == 0


def test_an_ollama_client_that_disconnects_stops_its_generation_too(api_server: LiveServer) -> None:
    # Greedy, as in the OpenAI test: sampled at Ollama's default temperature, the random model can end its answer
    # (EOS) before the server sees the client gone.
    body = {"model": MODEL, "messages": question(0), "options": {"num_predict": 100_000, "temperature": 0}}
    sock = open_stream(api_server, "/api/chat", body)
    read_until(sock, b'"done":false')
    sock.close()
    wait_for(lambda: len(api_server.handle.activity) == 1)
    assert api_server.handle.activity[-1].finished.finish_reason == "cancelled"


def test_a_request_waiting_its_turn_never_reaches_the_engine_when_its_client_leaves(api_server: LiveServer) -> None:
    api_server.engine.batching.enabled = False  # one at a time, as on llama.cpp: the second request waits
    long = {"model": MODEL, "messages": question(1), "max_tokens": 100_000, "temperature": 0, "stream": True}
    first = open_stream(api_server, "/v1/chat/completions", long)
    read_until(first, b"data: ")
    waiting = open_stream(api_server, "/v1/chat/completions", {**long, "stream": False})
    wait_for(lambda: api_server.handle.queued == 2)
    waiting.close()
    wait_for(lambda: api_server.handle.queued == 1)
    first.close()
    wait_for(lambda: api_server.handle.queued == 0)
    assert [served.finished.finish_reason for served in api_server.handle.activity] == ["cancelled"]


def test_the_apps_own_request_waits_for_one_api_answer_not_the_whole_queue(api_server: LiveServer) -> None:
    api_server.engine.batching.enabled = False  # one at a time (llama.cpp); a batch takes it in at once (test_batching)
    long = {"model": MODEL, "messages": question(1), "max_tokens": 100_000, "temperature": 0, "stream": True}
    running = open_stream(api_server, "/v1/chat/completions", long)
    read_until(running, b"data: ")
    queued = [open_stream(api_server, "/v1/chat/completions", {**long, "max_tokens": 4}) for _ in range(3)]
    wait_for(lambda: api_server.handle.queued == 4)
    app_request = api_server.engine.chat(asked(9), SamplingSettings(temperature=0, max_tokens=4), "app")
    served_before_the_app: Future[list[Served]] = Future()
    app_request.finished.add_done_callback(  # on the worker, the moment the app's answer ends
        lambda _: served_before_the_app.set_result(answered(list(api_server.handle.activity)))
    )
    running.close()
    app_done = app_request.result(timeout=60)
    for sock in queued:
        sock.close()
    assert app_done.finish_reason == "length"
    assert served_before_the_app.result(timeout=60) == []


def test_requests_beyond_the_queue_bound_get_a_503_to_retry(serve: Callable[..., LiveServer]) -> None:
    server = serve(max_queue=1)
    body = {"model": MODEL, "messages": question(2), "max_tokens": 100_000, "temperature": 0, "stream": True}
    sock = open_stream(server, "/v1/chat/completions", body)
    read_until(sock, b"data: ")
    client = server.openai()
    try:
        client.chat.completions.create(model=MODEL, messages=question(3), max_tokens=2)
        raise AssertionError("expected a 503")
    except openai.InternalServerError as e:
        assert e.status_code == 503 and e.response.headers["Retry-After"] == "1"
    finally:
        sock.close()


LONG_ANSWER = {
    "/v1/chat/completions": {"max_tokens": 100_000, "temperature": 0},
    "/api/chat": {"options": {"num_predict": 100_000, "temperature": 0}},
}


@pytest.mark.parametrize(("path", "first", "error"), [
    ("/v1/chat/completions", b"data: ", b'data: {"error":{"message":"The answer was stopped'),
    ("/api/chat", b'"done":false', b'{"error":"the answer was stopped before it finished'),
])  # fmt: skip
def test_closing_the_server_ends_open_streams_with_an_error_in_their_format(
    serve: Callable[..., LiveServer], path: str, first: bytes, error: bytes
) -> None:
    server = serve()
    body = {"model": MODEL, "messages": question(4), "stream": True, **LONG_ANSWER[path]}
    sock = open_stream(server, path, body)
    received = read_until(sock, first)
    server.run(server.handle.close())
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    assert error in received
    assert server.handle.activity[-1].finished.finish_reason == "cancelled"


def test_a_generation_that_cannot_start_gives_up_its_turn(llama_engine: Engine) -> None:
    queue = RequestQueue(llama_engine, max_queue=4, default_max_tokens=8)

    def cannot_start(_loop: asyncio.AbstractEventLoop) -> None:
        raise RuntimeError("the engine refused")

    async def try_twice() -> int:
        for _ in range(2):  # the second would wait for the turn forever if the first kept it
            with pytest.raises(RuntimeError):
                async with queue.generation("/v1/chat/completions", MODEL, cannot_start):
                    pass
        return queue.queued

    assert asyncio.run(asyncio.wait_for(try_twice(), timeout=60)) == 0
