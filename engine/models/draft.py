"""Which draft model a model loads with (engine/speculative.py), checked before anything is loaded (so a refusal
leaves the loaded model alone): the draft must be an MLX folder with the model's vocabulary, and a GGUF model (run on
llama.cpp) loads without one, saying so."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from engine.errors import ModelError
from engine.models.folder import ModelInfo
from engine.models.store import model_key
from engine.speculative import MLX_ONLY, DraftChoice, draft_skipped_note


@dataclass(frozen=True)
class DraftPlan:
    """The draft to load beside a model (None: none), and what to tell the user about it."""

    draft: tuple[DraftChoice, ModelInfo] | None = None
    note: str = ""

    def extra_bytes(self, context: int, kv_bits: int | None) -> int:
        """What the draft adds to the fit check: its weights and its KV cache at `context` tokens."""
        if self.draft is None:
            return 0
        info = self.draft[1]
        return info.weight_bytes + info.kv.bytes_per_token_at(info.kv.usable_bits(kv_bits)) * context


def plan_draft(info: ModelInfo, drafts: Mapping[str, DraftChoice]) -> DraftPlan:
    """The draft set for `info` (`drafts` is keyed by engine.models.store.model_key), checked: ModelError in one
    line when it is not an MLX model folder."""
    from engine.backends import backend_name
    from engine.models.loading import inspect_model

    choice = drafts.get(model_key(info.path))
    if choice is None:
        return DraftPlan()
    if backend_name(info) != "MLX":
        return DraftPlan(note=draft_skipped_note(info.name))
    draft_info = inspect_model(choice.model)
    if backend_name(draft_info) != "MLX":
        raise ModelError(f"the draft model {draft_info.name} is a GGUF file ({MLX_ONLY}): choose an MLX folder "
                         "(`cabin models import` makes one)")  # fmt: skip
    if not same_vocabulary(info, draft_info):
        raise ModelError(f"{draft_info.name} cannot draft for {info.name}: its tokenizer is not the same "
                         "(speculative decoding needs the same vocabulary)")  # fmt: skip
    return DraftPlan((choice, draft_info))


def same_vocabulary(info: ModelInfo, other: ModelInfo) -> bool:
    """Whether two models' tokenizers map every token to the same id (the draft's ids must mean the model's tokens);
    reads only their tokenizer files."""
    from mlx_lm.utils import load_tokenizer

    return load_tokenizer(info.path).get_vocab() == load_tokenizer(other.path).get_vocab()
