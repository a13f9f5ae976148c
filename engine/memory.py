"""Memory readings: MLX's allocator counters and the system's total/available memory.

On Apple Silicon the system memory is unified memory shared by the CPU and GPU; on Linux it is RAM.
"""

from __future__ import annotations

import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class SystemMemory:
    total: int
    available: int


@dataclass(frozen=True)
class MemoryLimits:
    """MLX's allocator limits in bytes (`mx.set_memory_limit`, `mx.set_cache_limit`)."""

    memory: int
    cache: int


@dataclass(frozen=True)
class MemoryReading:
    """All figures in bytes."""

    active: int
    peak: int
    cache: int
    system: SystemMemory
    limits: MemoryLimits | None = None
    """None until the engine has set or read them."""


class LimitSetter:
    """Sets MLX's memory and cache limits, None meaning MLX's own default. Worker thread only.

    MLX can report the memory limit but not the cache limit; `set_cache_limit` returns the previous
    one, so both defaults are captured before the first change.
    """

    def __init__(self) -> None:
        self.defaults: MemoryLimits | None = None
        self.current: MemoryLimits | None = None

    def apply(self, memory: int | None, cache: int | None) -> MemoryLimits:
        import mlx.core as mx

        if self.defaults is None:
            default_cache = mx.set_cache_limit(0)
            mx.set_cache_limit(default_cache)
            self.defaults = MemoryLimits(mx.get_memory_limit(), default_cache)
        cache = self.defaults.cache if cache is None else cache
        mx.set_memory_limit(self.defaults.memory if memory is None else memory)
        mx.set_cache_limit(cache)
        self.current = MemoryLimits(mx.get_memory_limit(), cache)
        return self.current


def parse_meminfo(text: str) -> SystemMemory:
    """Parse Linux /proc/meminfo (values in kB)."""
    values = {
        m.group(1): int(m.group(2)) * 1024
        for m in re.finditer(r"^(\w+):\s+(\d+) kB", text, re.MULTILINE)
    }
    return SystemMemory(total=values["MemTotal"], available=values["MemAvailable"])


def parse_vm_stat(memsize: int, vm_stat: str) -> SystemMemory:
    """macOS: available = free + inactive + purgeable + speculative pages, as Activity Monitor counts it."""
    page_size = int(re.search(r"page size of (\d+) bytes", vm_stat).group(1))
    pages = {
        m.group(1).strip().lower(): int(m.group(2))
        for m in re.finditer(r"^([^:\n]+):\s+(\d+)\.", vm_stat, re.MULTILINE)
    }
    keys = ("pages free", "pages inactive", "pages purgeable", "pages speculative")
    return SystemMemory(total=memsize, available=sum(pages.get(k, 0) for k in keys) * page_size)


def system_memory() -> SystemMemory:
    """Total and available system memory, from sysctl/vm_stat on macOS and /proc/meminfo on Linux."""
    if sys.platform == "darwin":
        memsize = int(subprocess.run(["sysctl", "-n", "hw.memsize"], capture_output=True, text=True, check=True).stdout)
        vm_stat = subprocess.run(["vm_stat"], capture_output=True, text=True, check=True).stdout
        return parse_vm_stat(memsize, vm_stat)
    return parse_meminfo(Path("/proc/meminfo").read_text())


def read_memory() -> MemoryReading:
    """MLX allocator counters plus system memory. Call it on the engine's worker thread."""
    import mlx.core as mx

    return MemoryReading(
        active=mx.get_active_memory(),
        peak=mx.get_peak_memory(),
        cache=mx.get_cache_memory(),
        system=system_memory(),
    )


def format_bytes(n: float) -> str:
    """1536 -> '1.5 KB': binary units, as Activity Monitor shows them."""
    units = ["B", "KB", "MB", "GB", "TB"]
    i = 0
    while abs(n) >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return f"{n:.0f} B" if i == 0 else f"{n:.1f} {units[i]}"
