"""A Responses or Anthropic stream that the server must end early (it is closing) ends with an error in that
API's own stream format."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.conftest import LiveServer
from tests.test_server_concurrency import MODEL, open_stream, question, read_until

LONG_ANSWERS = {
    "/v1/responses": {"input": "Tell me a long story.", "max_output_tokens": 100_000, "temperature": 0},
    "/v1/messages": {"messages": question(4), "max_tokens": 100_000, "temperature": 0},
}


@pytest.mark.parametrize(("path", "first", "error"), [
    ("/v1/responses", b"event: response.output_text.delta",
     b'event: error\ndata: {"type":"error","code":"generation_stopped"'),
    ("/v1/messages", b"event: content_block_delta",
     b'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"The answer was stopped'),
])  # fmt: skip
def test_closing_the_server_ends_the_stream_with_an_error_event(
    serve: Callable[..., LiveServer], path: str, first: bytes, error: bytes
) -> None:
    server = serve()
    sock = open_stream(server, path, {"model": MODEL, "stream": True, **LONG_ANSWERS[path]})
    received = read_until(sock, first)
    server.run(server.handle.close())
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    assert error in received


def test_a_failed_response_stream_ends_with_response_failed(serve: Callable[..., LiveServer]) -> None:
    server = serve()
    sock = open_stream(server, "/v1/responses", {"model": MODEL, "stream": True, **LONG_ANSWERS["/v1/responses"]})
    received = read_until(sock, b"event: response.output_text.delta")
    server.run(server.handle.close())
    while chunk := sock.recv(65536):
        received += chunk
    sock.close()
    failed = received.index(b'event: response.failed\ndata: {"type":"response.failed"')
    assert failed > received.index(b"event: error") and b'"status":"failed"' in received[failed:]
