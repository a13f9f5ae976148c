"""Inference backends: one runtime each (engine/backends/base.py says what a backend does).

A model's format picks its backend: an MLX folder (config.json and safetensors, checked by
engine/models/loading.py) runs on engine/backends/mlx.py (a vision-language one on engine/backends/mlx_vlm.py), a
`.gguf` file on llama.cpp (engine/backends/llamacpp.py; with its vision projector on
engine/backends/llamacpp_vision.py).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.models.folder import ModelInfo
    from engine.speculative import DraftChoice


def backend_name(info: ModelInfo) -> str:
    """The runtime a model runs on, as the user knows it: "llama.cpp" for a GGUF file, else "MLX"."""
    from engine.models.gguf_model import is_gguf_file

    return "llama.cpp" if is_gguf_file(info.path) else "MLX"


def kv_bits_for(info: ModelInfo, kv_bits: int | None) -> int | None:
    """The KV-cache bits `info` would run with when `kv_bits` are asked for: MLX quantizes the KV cache when the
    model's head size allows it (not yet a vision model's); llama.cpp keeps its cache at full precision (its own
    type_k/type_v are not wired)."""
    return info.kv.usable_bits(kv_bits) if backend_name(info) == "MLX" and not info.vision else None


def load_backend(
    info: ModelInfo, context: int, upcast_on_cpu: bool, kv_bits: int | None = None,
    draft: tuple[DraftChoice, ModelInfo] | None = None,
) -> Backend:
    """Load a validated model with the backend its format needs, on the calling thread, which then owns it.
    `kv_bits` (8 or 4): quantize the KV cache, where the backend can (`kv_bits_for`). `draft`: a draft model for
    speculative decoding, MLX only (engine/models/draft.py leaves it out for llama.cpp)."""
    from engine.models.gguf_model import is_gguf_file

    if is_gguf_file(info.path) and info.projector is not None:
        from engine.backends.llamacpp_vision import LlamaCppVisionBackend

        return LlamaCppVisionBackend.load(info, context)
    if is_gguf_file(info.path):
        from engine.backends.llamacpp import LlamaCppBackend

        return LlamaCppBackend.load(info, context)
    if info.vision:
        from engine.backends.mlx_vlm import VisionBackend

        return VisionBackend.load(info, context, upcast_on_cpu)
    from engine.backends.mlx import MLXBackend

    return MLXBackend.load(info, context, upcast_on_cpu, kv_bits_for(info, kv_bits), draft)
