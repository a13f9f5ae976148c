"""A GGUF file as a model the engine runs directly (on llama.cpp, engine/backends/llamacpp.py), described from
its header alone: the same `ModelInfo` an MLX folder gets, so the same fit check and refusal apply."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from engine.errors import ModelError
from engine.models.folder import ModelInfo
from engine.models.gguf_info import inspect_gguf
from engine.models.gguf_projector import usable_projector

GGUF_SUFFIX = ".gguf"
GGUF_MAGIC = b"GGUF"
LLAMA_CPP_MISSING = "running a GGUF file needs llama-cpp-python: install it with scripts/setup.sh"


def can_run_gguf() -> bool:
    """Whether llama-cpp-python is installed, asked without importing it (the app never imports llama_cpp)."""
    return importlib.util.find_spec("llama_cpp") is not None


def is_gguf_file(path: Path) -> bool:
    """A file named .gguf, or any file that starts with GGUF's magic (Ollama's blobs are named by their hash)."""
    if not path.is_file():
        return False
    if path.suffix.lower() == GGUF_SUFFIX:
        return True
    try:
        with path.open("rb") as f:
            return f.read(len(GGUF_MAGIC)) == GGUF_MAGIC
    except OSError:
        return False


def gguf_model_name(path: Path) -> str:
    """What a GGUF file run as it is is called: its Ollama name for a blob in Ollama's store (named by its hash),
    else the file's name without .gguf, as an MLX model is called by its folder's name. Header names (general.name)
    are often the same for every quantization of a model, so they do not tell files apart."""
    from engine.models.elsewhere import ollama_name_of

    return ollama_name_of(path) or path.name.removesuffix(GGUF_SUFFIX)


def inspect_gguf_model(path: Path) -> ModelInfo:
    """Validate a GGUF file without reading its weights; a truncated or non-GGUF file, a split file's later shard
    or a vision projector raise ModelError (one line)."""
    info = inspect_gguf(path)
    if info.is_projector:
        raise ModelError(f"{path.name} is a vision projector, not a chat model: run the model it goes with")
    if info.shard is not None and info.shard[0] != 1:
        raise ModelError(f"{path.name} is part {info.shard[0]} of {info.shard[1]} of a split model: run part 1")
    projector = usable_projector(info)
    return ModelInfo(
        name=gguf_model_name(path),
        path=path,
        model_type=info.architecture,
        bits=None,
        weight_bytes=info.tensor_bytes + (projector.tensor_bytes if projector else 0),
        context_length=info.context_length,
        parameters=info.parameters,
        kv=info.kv,
        quant=info.quant,
        vision=projector is not None,
        projector=projector.path if projector else None,
    )

