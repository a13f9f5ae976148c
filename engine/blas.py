"""Which BLAS runs MLX's CPU matmuls, and the switch to OpenBLAS on Linux.

MLX's Linux wheel resolves `cblas_sgemm` from the reference (netlib) BLAS it bundles: ~30x slower
than OpenBLAS at prefill. `engine/_blas_shim.c` exports the plain CBLAS names and forwards them to
the OpenBLAS in the scipy-openblas32 wheel; loaded with RTLD_GLOBAL before MLX's first matmul, it
wins symbol resolution for the whole process. On macOS nothing changes: MLX uses Metal and Accelerate.

OpenBLAS gets one thread fewer than the machine has cores, leaving one for the UI: its worker threads
spin-wait, and with every core busy a decode step ran 10x slower (see the closing note of issue 10).
OPENBLAS_NUM_THREADS, when set, wins. Set CABIN_BLAS=reference to keep the bundled BLAS (for comparisons).
"""

from __future__ import annotations

import ctypes
import importlib.util
import os
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class BlasInfo:
    name: str
    detail: str

    def __str__(self) -> str:
        return f"{self.name} ({self.detail})"


def _openblas_library() -> Path:
    import scipy_openblas32

    return Path(scipy_openblas32.get_lib_dir()) / scipy_openblas32.get_library(fullname=True)


def _openblas_version() -> str:
    from importlib.metadata import version

    return ".".join(version("scipy-openblas32").split(".")[:3])


def _use_openblas() -> BlasInfo:
    shim = importlib.util.find_spec("engine._blas_shim")
    if shim is None or shim.origin is None:
        return BlasInfo("reference BLAS", "the OpenBLAS shim was not built (no C compiler at install)")
    try:
        library = _openblas_library()
    except ImportError:
        return BlasInfo("reference BLAS", "scipy-openblas32 is not installed")
    status = ctypes.CDLL(shim.origin, mode=ctypes.RTLD_GLOBAL).cabin_bind_openblas(str(library).encode())
    if status != 0:
        return BlasInfo("reference BLAS", f"could not bind OpenBLAS at {library} (error {status})")
    openblas = ctypes.CDLL(str(library))
    if "OPENBLAS_NUM_THREADS" not in os.environ:
        openblas.scipy_openblas_set_num_threads(default_threads())
    threads = openblas.scipy_openblas_get_num_threads()
    return BlasInfo(f"OpenBLAS {_openblas_version()}", f"{threads} thread{'s' if threads > 1 else ''}")


def default_threads(cores: int | None = None) -> int:
    """All cores but one, which stays free for the UI thread."""
    return max(1, (cores or os.cpu_count() or 1) - 1)


def select_blas(platform: str = sys.platform) -> BlasInfo:
    """Make MLX's CPU matmuls use the fastest BLAS available here; say which one runs."""
    if platform == "darwin":
        return BlasInfo("Accelerate", "MLX on macOS computes on Metal; its CPU ops use Accelerate")
    if os.environ.get("CABIN_BLAS") == "reference":
        return BlasInfo("reference BLAS", "CABIN_BLAS=reference")
    if "mlx.core" in sys.modules:
        return BlasInfo("reference BLAS", "MLX was imported before Cabin's engine")
    return _use_openblas()


ACTIVE = select_blas()
"""Decided once, when `engine` is first imported (before anything imports MLX)."""
