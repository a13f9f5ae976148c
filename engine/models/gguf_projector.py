"""The vision projector (`mmproj`) that lets a GGUF chat model read images on llama.cpp.

A multimodal GGUF model comes as two files: the language model, and a projector holding the vision encoder and
the layers that turn its features into the model's embeddings. Where each tool keeps them, Cabin finds the
projector by itself:

- a folder (a Hugging Face repo, LM Studio's `<publisher>/<repo>`, a llama.cpp models folder): a `*mmproj*.gguf`
  file beside the model. Repos often hold one per precision (f16, bf16, f32) and a folder may hold several
  models': a projector whose output width differs from the model's embeddings is not this model's; of the rest,
  the one whose name shares most words with the model's, then the smallest, is taken;
- Ollama's store: the projector layer of the manifest that names the model's blob.

Only headers are read (engine/models/gguf_info.py).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

from engine.models.elsewhere import layer_blob, manifest_of, read_header
from engine.models.gguf_info import GgufInfo

PROJECTOR_NAME = "mmproj"
"""What every projector file's name contains (llama.cpp's converter, Hugging Face repos, LM Studio)."""
OLLAMA_PROJECTOR_LAYER = "application/vnd.ollama.image.projector"


def usable_projector(model: GgufInfo) -> GgufInfo | None:
    """The vision projector that goes with `model` when this llama-cpp-python can run one; None: it reads text only."""
    return find_projector(model) if can_read_images() else None


def can_read_images() -> bool:
    """Whether llama-cpp-python was built with llama.cpp's multimodal library (mtmd), asked without importing it."""
    spec = importlib.util.find_spec("llama_cpp")
    folders = spec.submodule_search_locations if spec else None
    return bool(folders) and any(any((Path(folder) / "lib").glob("*mtmd*")) for folder in folders)


def find_projector(model: GgufInfo) -> GgufInfo | None:
    """The vision projector file that goes with `model`, or None."""
    return _ollama_projector(model) or _folder_projector(model)


def is_vision_projector(info: GgufInfo) -> bool:
    """A projector with a vision encoder (some hold only an audio encoder)."""
    return info.is_projector and bool(info.metadata.get("clip.has_vision_encoder", True))


def _fits(projector: GgufInfo, model: GgufInfo) -> bool:
    """Its output width is the model's embedding width (llama.cpp's converters write both)."""
    width = projector.metadata.get("clip.vision.projection_dim")
    embedding = model.metadata.get(f"{model.architecture}.embedding_length")
    return width is not None and width == embedding


def _folder_projector(model: GgufInfo) -> GgufInfo | None:
    names = (p for p in model.path.parent.iterdir() if PROJECTOR_NAME in p.name.lower() and p.suffix.lower() == ".gguf")
    found = [info for info in map(_projector_header, names) if info is not None and _fits(info, model)]
    if not found:
        return None

    model_words = _words(model.path.name)

    def preference(info: GgufInfo) -> tuple[int, int]:
        return -len(_words(info.path.name) & model_words), info.file_size

    return min(found, key=preference)


def _words(name: str) -> set[str]:
    """The words of a file name ("gemma-3-4b-it-Q4_K_M.gguf" -> gemma, 3, 4b, it, q4, k, m, gguf)."""
    return set(re.split(r"[^a-z0-9]+", name.lower())) - {"", PROJECTOR_NAME, "gguf"}


def _ollama_projector(model: GgufInfo) -> GgufInfo | None:
    """The projector layer of the Ollama manifest naming `model`'s blob."""
    found = manifest_of(model.path)
    blob = layer_blob(found[0], model.path.parent, OLLAMA_PROJECTOR_LAYER) if found else None
    return _projector_header(blob) if isinstance(blob, Path) else None


def _projector_header(path: Path) -> GgufInfo | None:
    """`path`'s header (cached while the file is unchanged) if it is a readable vision projector; None otherwise."""
    info = read_header(path)
    return info if isinstance(info, GgufInfo) and is_vision_projector(info) else None
