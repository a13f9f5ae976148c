"""A cloud provider on loopback for the routing tests: real HTTP, real server-sent events, scripted behaviour.

It speaks both wire formats Cabin uses (OpenAI chat completions at /v1/chat/completions, Anthropic Messages at
/v1/messages), and can answer with an HTTP error, stall past the client's timeout, or drop the connection
in the middle of a stream. It records each request (path, headers, JSON body) for the tests to read.
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Script:
    words: tuple[str, ...] = ("Paris ", "is ", "the ", "capital.")
    status: int = 200
    error: str = "Invalid API key provided"
    stall: bool = False
    """Send nothing until the test releases the server (the client times out first)."""
    drop_after: int | None = None
    """Close the connection after this many words, without finishing the stream."""
    input_tokens: int = 12
    hold_after: int | None = None
    """Wait for the test to release the server after this many words (the answer is mid-way until then)."""


@dataclass
class Recorded:
    path: str
    headers: dict[str, str]
    body: dict[str, Any]


@dataclass
class FakeCloud:
    server: ThreadingHTTPServer
    script: Script = field(default_factory=Script)
    requests: list[Recorded] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def port(self) -> int:
        return self.server.server_address[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def start_fake_cloud() -> FakeCloud:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    cloud = FakeCloud(server)
    server.cloud = cloud  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, name="fake-cloud", daemon=True).start()
    return cloud


def stop_fake_cloud(cloud: FakeCloud) -> None:
    cloud.release.set()
    cloud.server.shutdown()
    cloud.server.server_close()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    @property
    def cloud(self) -> FakeCloud:
        return self.server.cloud  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802 — http.server's name
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.cloud.requests.append(Recorded(self.path, dict(self.headers), body))
        script = self.cloud.script
        if script.stall:
            self.cloud.release.wait(10)
            return
        if script.status != 200:
            error = {"type": "authentication_error", "message": script.error}
            self._json(script.status, {"type": "error", "error": error})
            return
        events = anthropic_events(script) if self.path.endswith("/messages") else openai_events(script)
        self._stream(events, script.drop_after)

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, events: list[tuple[str | None, dict[str, Any] | str, bool]], drop_after: int | None) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = 0
        for name, data, is_word in events:
            if drop_after is not None and words >= drop_after:
                self.wfile.flush()
                self.connection.shutdown(socket.SHUT_RDWR)
                self.close_connection = True
                return
            payload = data if isinstance(data, str) else json.dumps(data)
            text = (f"event: {name}\n" if name else "") + f"data: {payload}\n\n"
            self._chunk(text.encode())
            words += is_word
            if is_word and words == self.cloud.script.hold_after:
                self.cloud.release.wait(10)
        self._chunk(b"")

    def _chunk(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


def openai_events(script: Script) -> list[tuple[str | None, dict[str, Any] | str, bool]]:
    chunk = {"id": "c1", "object": "chat.completion.chunk", "model": "fake-gpt"}
    events: list[tuple[str | None, dict[str, Any] | str, bool]] = [
        (None, {**chunk, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}}]}, False)
    ]
    events += [(None, {**chunk, "choices": [{"index": 0, "delta": {"content": w}}]}, True) for w in script.words]
    events.append((None, {**chunk, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}, False))
    usage = {"prompt_tokens": script.input_tokens, "completion_tokens": len(script.words)}
    events.append((None, {**chunk, "choices": [], "usage": usage}, False))
    events.append((None, "[DONE]", False))
    return events


def anthropic_events(script: Script) -> list[tuple[str | None, dict[str, Any] | str, bool]]:
    start = {"type": "message_start", "message": {"id": "m1", "model": "fake-claude",
                                                  "usage": {"input_tokens": script.input_tokens, "output_tokens": 1}}}
    events: list[tuple[str | None, dict[str, Any] | str, bool]] = [
        ("message_start", start, False),
        ("content_block_start", {"type": "content_block_start", "index": 0,
                                 "content_block": {"type": "text", "text": ""}}, False),
        ("ping", {"type": "ping"}, False),
    ]
    events += [("content_block_delta", {"type": "content_block_delta", "index": 0,
                                        "delta": {"type": "text_delta", "text": w}}, True) for w in script.words]
    events += [
        ("content_block_stop", {"type": "content_block_stop", "index": 0}, False),
        ("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn"},
                           "usage": {"output_tokens": len(script.words)}}, False),
        ("message_stop", {"type": "message_stop"}, False),
    ]
    return events
