"""Pieces shared by the `cabin` commands."""

from __future__ import annotations

import argparse
from contextlib import contextmanager
from collections.abc import Iterator

from engine.generation import Engine, Stats
from engine.memory import format_bytes


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


@contextmanager
def loaded_engine(model: str, allow_oversize: bool = False) -> Iterator[Engine]:
    """An engine with `model` loaded, shut down cleanly afterwards (an MLX thread left behind can abort exit)."""
    engine = Engine()
    try:
        engine.load(model, allow_oversize=allow_oversize).result()
        yield engine
    finally:
        engine.shutdown()


def stats_line(stats: Stats, finish_reason: str) -> str:
    return (
        f"{stats.generated_tokens} tokens at {stats.generation_tps:.1f} tok/s · "
        f"prompt {stats.prompt_tokens} tokens ({stats.cached_tokens} cached) at {stats.prompt_tps:.1f} tok/s · "
        f"TTFT {stats.ttft * 1000:.0f} ms · peak memory {format_bytes(stats.peak_memory)} · {finish_reason}"
    )
