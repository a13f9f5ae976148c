"""Load a model with mlx_lm after checking its folder and that it fits, turning every failure into one clear ModelError."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from engine.errors import ModelError
from engine.models import local
from engine.models.fit import DEFAULT_CONTEXT, Verdict, assess, memory_budget
from engine.models.folder import ModelInfo, inspect_model_folder
from engine.models.store import model_key, resolve_model


def refuse_if_too_big(
    info: ModelInfo, context: int = DEFAULT_CONTEXT, kv_bits: int | None = None, draft_bytes: int = 0
) -> None:
    """Refuse a model that cannot fit rather than let it swap the machine to a halt or produce garbage.
    `kv_bits`: the KV cache it will run with, quantized (8, 4) or not (None); `draft_bytes`: what its draft model
    takes (weights and KV cache), counted with its weights."""
    fit = assess(info.weight_bytes + draft_bytes, info.kv, context, memory_budget(), kv_bits)
    if fit.verdict is Verdict.WONT_FIT:
        with_draft = " with its draft model" if draft_bytes else ""
        raise ModelError(
            f"{info.name}{with_draft} won't fit in this machine's memory: it {fit.describe()}. "
            "Choose a smaller model or a shorter context, or load it anyway with --allow-oversize"
        )


def inspect_model(spec: str | Path) -> ModelInfo:
    """Find and validate a model (a folder, a repo id in the HF cache, or a GGUF file) without reading its weights."""
    from engine.models.gguf_model import inspect_gguf_model, is_gguf_file

    path = resolve_model(spec)
    return inspect_gguf_model(path) if is_gguf_file(path) else inspect_model_folder(path)


def load_model(info: ModelInfo) -> tuple[Any, Any]:
    """(model, tokenizer) for a validated model. Call on the engine's worker thread."""
    from mlx_lm import load

    try:
        loaded = load(str(info.path))
    except Exception as e:  # noqa: BLE001 — mlx_lm raises many kinds; the user needs one line
        reason = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise ModelError(f"could not load {info.name}: {reason}") from e
    local.mark_used(model_key(info.path))
    return loaded
