"""Handing freed memory back to the system once a model has been released or loaded.

On Linux, glibc's malloc keeps large freed blocks in its heap instead of returning them (its mmap threshold
grows to the size of the largest block freed), so after a model swap the process stayed ~150 MB bigger than
the first time it held the same model (SmolLM2 upcast to float32, bench/memory_soak.py), though MLX's active
memory was back to the byte. `malloc_trim(0)` returns those pages. Elsewhere (macOS, musl) there is nothing to do.
"""

from __future__ import annotations

import ctypes
import functools
import sys
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def return_freed_memory() -> bool:
    """Give the heap's free pages back to the system; whether this platform can."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
