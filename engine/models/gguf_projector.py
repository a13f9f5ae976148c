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

import json
import re
from pathlib import Path

from engine.errors import ModelError
from engine.models.elsewhere import OLLAMA_MODEL_LAYER
from engine.models.gguf_info import GgufInfo, inspect_gguf

PROJECTOR_NAME = "mmproj"
"""What every projector file's name contains (llama.cpp's converter, Hugging Face repos, LM Studio)."""
OLLAMA_PROJECTOR_LAYER = "application/vnd.ollama.image.projector"


def find_projector(model: GgufInfo) -> GgufInfo | None:
    """The vision projector that goes with `model`, or None: it reads text only."""
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
    """The projector blob named beside `model`'s blob in an Ollama manifest."""
    blobs = model.path.parent
    manifests = blobs.parent / "manifests"
    if blobs.name != "blobs" or not manifests.is_dir():
        return None
    for manifest in sorted(p for p in manifests.glob("*/*/*/*") if p.is_file()):
        layers = _layers(manifest)
        digests = {layer.get("mediaType"): str(layer.get("digest", "")).replace(":", "-", 1) for layer in layers}
        if digests.get(OLLAMA_MODEL_LAYER) == model.path.name and OLLAMA_PROJECTOR_LAYER in digests:
            return _projector_header(blobs / digests[OLLAMA_PROJECTOR_LAYER])
    return None


def _layers(manifest: Path) -> list[dict]:
    try:
        layers = json.loads(manifest.read_text()).get("layers", [])
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
        return []
    return [layer for layer in layers if isinstance(layer, dict)] if isinstance(layers, list) else []


def _projector_header(path: Path) -> GgufInfo | None:
    """`path`'s header if it is a readable vision projector; None for anything else."""
    try:
        info = inspect_gguf(path)
    except ModelError:
        return None
    return info if is_vision_projector(info) else None
