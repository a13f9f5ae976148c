"""Memory stays flat: API generations on the real SmolLM2 and model swaps leave no growing residue.

A reduced bench/memory_soak.py. Readings are compared after a warm-up (the first answers allocate the prompt
caches and MLX's buffer cache), with medians of a few readings against allocator noise; a leak of one KV cache
per answer (SmolLM2 in float32: ~12 MB each, on ~513 MB of weights) or of one model per swap fails them.
"""

from __future__ import annotations

import json
import statistics
import urllib.request
from dataclasses import dataclass
from pathlib import Path

import psutil

from engine.generation import Engine
from engine.server import ServerConfig
from tests.conftest import LiveServer

GROWTH_BOUND = 0.05
WARMUP, MEASURED, TOKENS, SWAP_BACKS = 3, 9, 8, 3


@dataclass(frozen=True)
class Reading:
    rss: int
    active: int


def read(engine: Engine) -> Reading:
    """RSS of this process (the server's) and MLX's active memory, on the worker once the queue is drained."""
    import mlx.core as mx

    return Reading(psutil.Process().memory_info().rss, engine.submit(mx.get_active_memory).result())


def ask(url: str, model: str, n: int) -> None:
    body = {"model": model, "max_tokens": TOKENS, "temperature": 0,
            "messages": [{"role": "user", "content": f"Question {n:02d}: tell me about tables and lists."}]}
    request = urllib.request.Request(f"{url}/v1/chat/completions", json.dumps(body).encode(),
                                     {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.status == 200


def growth(values: list[int]) -> float:
    """The median of the last three readings against the median of the first three."""
    start, end = statistics.median(values[:3]), statistics.median(values[-3:])
    return (end - start) / start


def test_api_generations_on_the_real_model_leave_memory_flat(engine: Engine, smollm2_model: Path) -> None:
    engine.load(smollm2_model).result()
    server = LiveServer(engine, ServerConfig(port=0))
    try:
        readings = []
        for n in range(WARMUP + MEASURED):
            ask(server.url, smollm2_model.name, n)
            readings.append(read(engine))
    finally:
        server.close()
    measured = readings[WARMUP:]
    assert growth([r.active for r in measured]) < GROWTH_BOUND
    assert growth([r.rss for r in measured]) < GROWTH_BOUND


def test_swapping_back_to_a_model_returns_to_its_first_reading(
    engine: Engine, smollm2_model: Path, llama_model: Path
) -> None:
    engine.load(smollm2_model).result()
    first = read(engine)
    again = []
    for _ in range(SWAP_BACKS):
        engine.load(llama_model).result()
        engine.load(smollm2_model).result()
        again.append(read(engine))
    assert [r.active for r in again] == [first.active] * SWAP_BACKS
    assert max(r.rss for r in again) < first.rss * (1 + GROWTH_BOUND)
