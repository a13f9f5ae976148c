"""Preferences' "Test connection": one tiny streamed request to the provider, told back in one line."""

from __future__ import annotations

import threading
import time

from engine.cloud.answer import CloudAnswer
from engine.cloud.client import stream_pieces
from engine.cloud.keys import get_key
from engine.cloud.offline import offline_reason
from engine.cloud.pieces import CloudError, first_line
from engine.cloud.provider import Provider
from engine.generation import SamplingSettings
from engine.messages import user

PING = [user("Reply with the single word: OK")]
PING_SETTINGS = SamplingSettings(temperature=0.0, max_tokens=5)


def check_connection(provider: Provider | None, offline_switch: bool) -> str:
    """"Connected: gpt-4o-mini answered “OK” in 0.41 s", or CloudError with the reason (no socket when offline)."""
    if provider is None:
        raise CloudError("Set a model name first")
    reason = offline_reason(offline_switch, provider.url)
    if reason == "offline":
        raise CloudError("Offline is on (Preferences or HF_HUB_OFFLINE): Cabin will not connect")
    if reason:
        raise CloudError("No network: no interface is up with an address that can reach the provider")
    key = get_key(provider)
    if not key:
        raise CloudError(f"No API key stored for {provider.name}: enter one and press Save Key")
    started = time.perf_counter()
    answer = CloudAnswer(provider)
    for piece in stream_pieces(provider, key, PING, PING_SETTINGS, threading.Event()):
        answer.take(piece)
    said = first_line(answer.text, 40) or "(nothing)"
    return f"Connected: {provider.model} answered “{said}” in {time.perf_counter() - started:.2f} s"
