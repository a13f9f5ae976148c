"""Each model's draft model (speculative decoding), as the app keeps it: in the settings by the model's key, handed to
the engine, which loads the draft the next time that model is loaded. Shared by Preferences and the Models pane."""

from __future__ import annotations

from pathlib import Path

from engine.backends import backend_name
from engine.generation import Engine
from engine.models.folder import ModelInfo
from engine.models.store import StoredModel, model_key
from engine.settings.file import Settings


NONE = "None"
"""The choice of no draft model."""


def shown_name(key: str | None) -> str:
    """A draft model's key as a short name: a folder by its name, a repo id as it is."""
    return NONE if key is None else Path(key).name if Path(key).is_absolute() else key


def draft_candidates(models: list[StoredModel], target: ModelInfo) -> list[StoredModel]:
    """The MLX models that could draft for `target`: every usable one but itself (the tokenizer is checked at load)."""
    return [m for m in models if m.info is not None and backend_name(m.info) == "MLX" and m.path != target.path]


def draft_of(settings: Settings, target: ModelInfo) -> str | None:
    """The draft model (its key) set for `target`, if any."""
    return settings.values.draft_models.get(model_key(target.path))


def set_draft(settings: Settings, engine: Engine, target: ModelInfo, draft: str | None) -> None:
    """Give `target` the draft model `draft` (a model key; None: none), saved and handed to the engine."""
    from app.preferences.apply import apply_to_engine

    drafts = dict(settings.values.draft_models)
    drafts.pop(model_key(target.path), None)
    if draft is not None:
        drafts[model_key(target.path)] = draft
    settings.set("draft_models", drafts)
    apply_to_engine(settings, engine)


def draft_status(engine: Engine, target: ModelInfo | None) -> str:
    """What the loaded model runs with, in a line."""
    if target is None:
        return "Load a model to choose its draft model."
    if engine.draft_name:
        return f"{target.name} runs with {engine.draft_name} as its draft (batched API requests run without it)."
    return engine.draft_note or f"{target.name} runs without a draft model."
