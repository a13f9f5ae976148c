"""The Models pane's "Draft Model…" button: the selected model's draft model (speculative decoding), chosen among the
other MLX models on this computer, and what the draft adds to the selected model's fit."""

from __future__ import annotations

from PySide6.QtWidgets import QInputDialog, QPushButton, QWidget

from app.drafts import NONE, draft_candidates, shown_name
from engine.backends import backend_name
from engine.generation import Engine
from engine.models.draft import DraftPlan
from engine.models.store import StoredModel, model_key
from engine.speculative import MLX_ONLY

TOOLTIP = ("Speculative decoding: a smaller MLX model with the same tokenizer drafts this model's answers (checked "
           "when it loads). The answers stay the model's own, faster when the draft is cheap and often right.")


def draft_button() -> QPushButton:
    button = QPushButton("Draft Model…")
    button.setToolTip(TOOLTIP)
    return button


def draft_key(engine: Engine, model: StoredModel) -> str | None:
    """The key of the draft the engine has for `model`."""
    choice = engine.drafts.get(model_key(model.path))
    return choice.model if choice else None


def show_draft(button: QPushButton, engine: Engine, model: StoredModel | None) -> None:
    """The button for the selected model: its draft in its text; off for none, or a GGUF model (MLX only)."""
    mlx = model is not None and model.info is not None and backend_name(model.info) == "MLX"
    button.setEnabled(mlx)
    button.setToolTip(TOOLTIP if mlx or model is None else f"{MLX_ONLY.capitalize()}: this model runs on llama.cpp")
    current = draft_key(engine, model) if mlx else None
    button.setText(f"Draft: {shown_name(current)}…" if current else "Draft Model…")


def ask_for_draft(parent: QWidget, engine: Engine, model: StoredModel, models: list[StoredModel]) -> str | None | bool:
    """The draft chosen in a dialog: a model key, None for none, False when the dialog was cancelled."""
    names = [NONE] + [m.key for m in draft_candidates(models, model.info)]
    current = draft_key(engine, model)
    start = names.index(current) if current in names else 0
    item, ok = QInputDialog.getItem(parent, "Draft Model", f"Draft model for {model.info.name}:", names, start, False)
    if not ok:
        return False
    return None if item == NONE else item


def draft_bytes(engine: Engine, model: StoredModel, models: list[StoredModel], context: int, kv_bits: int | None) -> int:
    """What `model`'s draft adds to its fit: its weights and its KV cache at `context` tokens (0: no draft)."""
    key = draft_key(engine, model)
    draft = next((m for m in models if key is not None and m.key == key and m.info is not None), None)
    if draft is None or model.info is None or backend_name(model.info) != "MLX":
        return 0
    return DraftPlan((engine.drafts[model_key(model.path)], draft.info)).extra_bytes(context, kv_bits)
