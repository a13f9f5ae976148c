"""Inference backends: one runtime each (engine/backends/base.py says what a backend does).

A model's format picks its backend. Today every model the engine accepts is an MLX folder (config.json
and safetensors, checked by engine/models/loading.py), run by engine/backends/mlx.py. A `.gguf` file run by
llama.cpp (issue 20) gets its own module beside it, chosen in `load_backend`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.models.folder import ModelInfo


def load_backend(info: ModelInfo, context: int, upcast_on_cpu: bool) -> Backend:
    """Load a validated model with the backend its format needs, on the calling thread, which then owns it."""
    from engine.backends.mlx import MLXBackend

    return MLXBackend.load(info, context, upcast_on_cpu)
