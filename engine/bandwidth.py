"""Memory bandwidth measured the way STREAM does: a copy between buffers far larger than the caches, on all cores.

The roofline of decoding divides this by the bytes of weights read per token. A probe slower than the machine
(one MLX reduction thread reached ~3.2 GB/s on a machine that copies at ~23 GB/s) makes the engine look faster
than physics, so the probe copies with numpy on one thread per core (numpy releases the GIL while it copies)
and on one thread, and keeps the best round, as STREAM does. Counted as STREAM counts a copy: bytes read + bytes written.
"""

from __future__ import annotations

import functools
import os
import threading
import time

import numpy as np

ARRAY_BYTES = 256 * 2**20
"""Each of the two buffers: several times the largest last-level caches (32 MB here, up to 96 MB on Apple chips)."""
ROUNDS = 8


def timed_copy(source: np.ndarray, target: np.ndarray, threads: int) -> float:
    """Seconds for `threads` threads to copy their slices of `source` into `target`, all starting together."""
    bounds = np.linspace(0, source.size, threads + 1, dtype=np.int64)
    start, end = threading.Barrier(threads + 1), threading.Barrier(threads + 1)

    def copy_slice(lo: int, hi: int) -> None:
        start.wait()
        np.copyto(target[lo:hi], source[lo:hi])
        end.wait()

    workers = [threading.Thread(target=copy_slice, args=(bounds[i], bounds[i + 1])) for i in range(threads)]
    for worker in workers:
        worker.start()
    start.wait()
    began = time.perf_counter()
    end.wait()
    seconds = time.perf_counter() - began
    for worker in workers:
        worker.join()
    return seconds


def stream_copy_bandwidth(array_bytes: int = ARRAY_BYTES, threads: int | None = None, rounds: int = ROUNDS) -> float:
    """Bytes per second moved by the best of `rounds` copies of `array_bytes`, on `threads` threads (default: one
    and then one per core; the best wins, as a busy machine can hold back either)."""
    source = np.ones(array_bytes // 8, dtype=np.float64)
    target = np.ones_like(source)  # written now, so no round times the kernel's first touch of a page
    counts = [threads] if threads else sorted({1, os.cpu_count() or 1})
    best = min(timed_copy(source, target, n) for n in counts for _ in range(rounds))
    return 2 * source.nbytes / best


@functools.cache
def memory_bandwidth() -> float:
    """This machine's memory bandwidth in bytes/s, measured once per process."""
    return stream_copy_bandwidth()
