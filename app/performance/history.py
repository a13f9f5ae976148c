"""Time series of memory readings for the plots: a fixed number of recent samples, oldest first."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable

from engine.memory import MemoryReading

SAMPLES = 240
"""Two minutes at 2 Hz."""

MEMORY_SERIES: dict[str, Callable[[MemoryReading], float]] = {
    "active": lambda r: r.active,
    "cache": lambda r: r.cache,
    "peak": lambda r: r.peak,
    "available": lambda r: r.system.available,
}


class MemoryHistory:
    def __init__(self, capacity: int = SAMPLES) -> None:
        self.capacity = capacity
        self._readings: deque[MemoryReading] = deque(maxlen=capacity)

    def add(self, reading: MemoryReading) -> None:
        self._readings.append(reading)

    def series(self, name: str) -> list[float]:
        read = MEMORY_SERIES[name]
        return [read(r) for r in self._readings]

    def __len__(self) -> int:
        return len(self._readings)
