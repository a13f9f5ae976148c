"""One streaming request to a cloud provider (httpx), read into pieces; every failure is one CloudError line.

A stream that ends before the provider said it was done (a dropped connection, a proxy cutting it) is a
failure too, so the caller can fall back to the local model instead of keeping half an answer as whole.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from types import ModuleType

import httpx

from engine.cloud import anthropic_wire, openai_wire
from engine.cloud.pieces import CloudError, Done, Piece, error_message, first_line
from engine.cloud.provider import Provider
from engine.cloud.sse import sse_events
from engine.generation import SamplingSettings
from engine.messages import Message

WIRES: dict[str, ModuleType] = {"openai": openai_wire, "anthropic": anthropic_wire}
HTTP_HINTS = {
    401: "the API key was refused",
    403: "the API key may not use this model",
    404: "check the base URL and the model name",
    429: "rate limited or out of credit",
}


def stream_pieces(
    provider: Provider, key: str, messages: list[Message], settings: SamplingSettings, stop: threading.Event
) -> Iterator[Piece]:
    """The answer's pieces as they arrive; ends early (quietly) once `stop` is set."""
    try:
        yield from _stream(provider, key, messages, settings, stop)
    except CloudError as e:
        raise CloudError(redacted(str(e), key)) from None


def redacted(text: str, key: str) -> str:
    """An error line without the API key, should the provider have echoed it."""
    return text.replace(key, "***") if key else text


def _stream(
    provider: Provider, key: str, messages: list[Message], settings: SamplingSettings, stop: threading.Event
) -> Iterator[Piece]:
    wire = WIRES[provider.kind]
    url, headers, body = wire.request(provider, key, messages, settings)
    try:
        with httpx.Client(timeout=httpx.Timeout(provider.timeout)) as client:
            with client.stream("POST", url, headers=headers, json=body) as response:
                if response.status_code >= 400:
                    raise CloudError(http_error(provider, response))
                yield from _read(wire, response, stop)
    except httpx.TimeoutException:
        raise CloudError(f"{provider.host} did not answer within {provider.timeout:g} s") from None
    except httpx.ConnectError as e:
        raise CloudError(f"Could not reach {provider.host}: {first_line(str(e)) or 'connection refused'}") from None
    except (httpx.RemoteProtocolError, httpx.ReadError):
        raise CloudError(f"The connection to {provider.host} dropped mid-answer") from None
    except httpx.HTTPError as e:
        raise CloudError(f"{provider.host}: {first_line(str(e)) or type(e).__name__}") from None


def _read(wire: ModuleType, response: httpx.Response, stop: threading.Event) -> Iterator[Piece]:
    done = False
    for event, data in sse_events(response.iter_lines()):
        if stop.is_set():
            return
        for piece in wire.pieces(event, data):
            done = done or isinstance(piece, Done)
            yield piece
    if not done and not stop.is_set():
        raise CloudError("The answer was cut off: the provider closed the stream before finishing")


def http_error(provider: Provider, response: httpx.Response) -> str:
    """"api.example.com answered HTTP 401 (the API key was refused): Invalid key"."""
    response.read()
    try:
        said = error_message(response.json())
    except ValueError:
        said = first_line(response.text, 120)
    hint = HTTP_HINTS.get(response.status_code, "server error" if response.status_code >= 500 else "")
    head = f"{provider.host} answered HTTP {response.status_code}" + (f" ({hint})" if hint else "")
    return f"{head}: {said}" if said else head
