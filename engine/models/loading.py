"""Load a model with mlx_lm after checking its folder, turning every failure into one clear ModelError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ModelError
from engine.models.folder import ModelInfo, inspect_model_folder
from engine.models.store import resolve_model


def inspect_model(spec: str | Path) -> ModelInfo:
    """Find and validate a model (a folder, or a repo id in the HF cache) without reading its weights."""
    return inspect_model_folder(resolve_model(spec))


def load_model(info: ModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) for a validated model. Call on the engine's worker thread."""
    from mlx_lm import load

    try:
        return load(str(info.path))
    except Exception as e:  # noqa: BLE001 — mlx_lm raises many kinds; the user needs one line
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"could not load {info.name}: {reason}") from e
