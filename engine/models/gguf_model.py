"""A GGUF file as a model the engine runs directly (on llama.cpp, engine/backends/llamacpp.py), described from
its header alone: the same `ModelInfo` an MLX folder gets, so the same fit check and refusal apply."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.errors import ModelError
from engine.models.folder import ModelInfo
from engine.models.gguf_info import inspect_gguf

GGUF_SUFFIX = ".gguf"
LLAMA_CPP_MISSING = "running a GGUF file needs llama-cpp-python: install it with scripts/setup.sh"


def can_run_gguf() -> bool:
    """Whether llama-cpp-python is installed, asked without importing it (the app never imports llama_cpp)."""
    return importlib.util.find_spec("llama_cpp") is not None


def is_gguf_file(path: Path) -> bool:
    return path.suffix.lower() == GGUF_SUFFIX and path.is_file()


def inspect_gguf_model(path: Path) -> ModelInfo:
    """Validate a GGUF file without reading its weights; a truncated or non-GGUF file, a split file's later shard
    or a vision projector raise ModelError (one line)."""
    info = inspect_gguf(path)
    if info.is_projector:
        raise ModelError(f"{path.name} is a vision projector, not a chat model: run the model it goes with")
    if info.shard is not None and info.shard[0] != 1:
        raise ModelError(f"{path.name} is part {info.shard[0]} of {info.shard[1]} of a split model: run part 1")
    return ModelInfo(
        name=info.name,
        path=path,
        model_type=info.architecture,
        bits=None,
        weight_bytes=info.tensor_bytes,
        context_length=info.context_length,
        parameters=info.parameters,
        kv=info.kv,
        quant=info.quant,
    )
