"""A quick proof that MLX computes correctly on its default device (the GPU on a Mac), for `cabin --selftest`.

In a frozen Cabin.app this is what fails first when Metal cannot find `mlx.metallib` inside the bundle.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.generation import Engine

MATMUL_EXPECTED = 1134.0
"""sum(A @ A.T) for A = arange(12).reshape(3, 4): the squared norm of A's column sums (12, 15, 18, 21)."""


def mlx_matmul() -> tuple[float, str, str]:
    """On the engine's worker: one small matmul on MLX's default device."""
    import mlx.core as mx

    a = mx.arange(12, dtype=mx.float32).reshape(3, 4)
    return (a @ a.T).sum().item(), mx.__version__, str(mx.default_device())


def check_mlx(engine: Engine, platform_name: str = sys.platform) -> str:
    """One line about MLX's device; raises when the result is wrong, or when a Mac computes without Metal."""
    total, version, device = engine.submit(mlx_matmul).result(timeout=120)
    if total != MATMUL_EXPECTED:
        raise RuntimeError(f"a matmul gave {total}, expected {MATMUL_EXPECTED}")
    if platform_name == "darwin" and "gpu" not in device:
        raise RuntimeError(f"MLX runs on {device}: Metal is not available")
    return f"mlx {version} on {device}, matmul correct"


def llama_cpp_features(system_info: str) -> str:
    """'CPU : SSE3 = 1 | AVX = 0 | ...' (llama.cpp's system info) as 'CPU: SSE3'; backends without a feature on are named alone."""
    backends: dict[str, list[str]] = {}
    backend = ""
    for part in system_info.split("|"):
        if ":" in part:
            backend, part = (piece.strip() for piece in part.split(":", 1))
            backends.setdefault(backend, [])
        name, _, value = part.partition("=")
        if backend and value.strip() == "1":
            backends[backend].append(name.strip())
    return "; ".join(f"{name}: {' '.join(features)}" if features else name for name, features in backends.items())


def check_llama_cpp() -> str:
    """One line about llama.cpp (GGUF files run on it): its libraries load and say what they were built for."""
    from engine.backends.llamacpp import require_llama_cpp

    llama_cpp = require_llama_cpp()
    return f"llama-cpp-python {llama_cpp.__version__} ({llama_cpp_features(llama_cpp.llama_print_system_info().decode())})"
