"""Offline is a first-class mode: with no network, models in the cache list, load and chat without a single
socket being opened; with HF_HUB_OFFLINE=1, download and search say "offline" at once."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.errors import OfflineError
from engine.generation import Engine, SamplingSettings
from engine.messages import user
from engine.models.download import pull
from engine.models.hub import search
from engine.models.store import list_models
from tests.conftest import put_in_hf_cache

REPO = "mlx-community/tiny-llama-4bit"


@pytest.fixture
def no_sockets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[tuple]]:
    """Every attempt to connect anywhere is recorded and fails, as on a machine with no network."""
    attempts: list[tuple] = []

    def refuse(self: socket.socket, address: tuple) -> None:
        attempts.append(address)
        raise OSError("network is unreachable (test guard)")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: refuse(None, address))
    yield attempts


@pytest.fixture
def cached_model(empty_hf_cache: Path, cabin_data: Path, llama_4bit_model: Path) -> str:
    put_in_hf_cache(empty_hf_cache, REPO, llama_4bit_model)
    return REPO


def test_list_load_and_chat_from_the_cache_open_no_socket(
    online: None, no_sockets: list[tuple], cached_model: str, engine: Engine
) -> None:
    assert [m.key for m in list_models() if m.usable] == [cached_model]
    engine.load(cached_model).result()
    finished = engine.chat([user("Hi")], SamplingSettings(max_tokens=4)).result()
    assert finished.finish_reason in ("stop", "length")
    assert no_sockets == []


def test_download_says_offline_at_once_without_a_socket(no_sockets: list[tuple], empty_hf_cache: Path) -> None:
    with pytest.raises(OfflineError, match="offline"):
        pull(REPO)
    assert no_sockets == []


def test_search_says_offline_at_once_without_a_socket(no_sockets: list[tuple]) -> None:
    with pytest.raises(OfflineError, match="offline"):
        search("qwen")
    assert no_sockets == []
