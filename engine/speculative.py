"""Speculative decoding, as the engine and its callers see it: which draft model a model uses, and what the
draft did for an answer. Plain values only (no MLX): the MLX side is engine/backends/mlx_draft.py and
engine/backends/mlx_speculative.py.

A draft model is a smaller model with the same tokenizer. It proposes `num_draft_tokens` tokens, the model
checks them all in one forward pass and keeps the ones it would have chosen itself, plus one of its own: a
greedy answer is the model's own, only faster when the draft is cheap and often right (mlx_lm's
`speculative_generate_step`).
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_NUM_DRAFT_TOKENS = 3
"""mlx_lm's server default."""
MAX_NUM_DRAFT_TOKENS = 16


@dataclass(frozen=True)
class DraftChoice:
    """The draft model to load beside a model."""

    model: str
    """A model folder or a repo id in the Hugging Face cache (an MLX model)."""
    num_draft_tokens: int = DEFAULT_NUM_DRAFT_TOKENS


@dataclass(frozen=True)
class DraftStats:
    """What the draft did for one answer so far."""

    proposed: int = 0
    """Tokens the draft proposed."""
    accepted: int = 0
    """Of those, the tokens the model kept (mlx_lm's `from_draft`)."""
    baseline_tps: float = 0.0
    """The model's decode tok/s without the draft, measured when the draft was loaded (0: not measured)."""
    note: str = ""
    """Why the draft did not run for this answer (empty: it ran), e.g. while requests are batched."""

    @property
    def acceptance(self) -> float:
        return self.accepted / self.proposed if self.proposed else 0.0

    def speedup(self, generation_tps: float) -> float | None:
        """`generation_tps` against the same model without the draft; None when unknown or the draft did not run."""
        if self.note or not self.baseline_tps or not generation_tps:
            return None
        return generation_tps / self.baseline_tps

    @classmethod
    def unused(cls, why: str) -> DraftStats:
        """For an answer that ran without the loaded draft, e.g. `DraftStats.unused("3 requests batched")`."""
        return cls(note=why)

    def describe(self, generation_tps: float) -> str:
        """One line for the CLI and the chat footer: "draft 41/54 accepted (76%), ≈1.40× vs without" (approximate: the
        speed without the draft was timed for a few tokens when the draft was loaded)."""
        if self.note:
            return f"draft not used: {self.note}"
        line = f"draft {self.accepted}/{self.proposed} accepted ({self.acceptance:.0%})"
        speedup = self.speedup(generation_tps)
        return f"{line}, ≈{speedup:.2f}× vs without" if speedup is not None else line


MLX_ONLY = "draft models run on MLX only"


def draft_skipped_note(model_name: str) -> str:
    """What to tell the user when a GGUF model (run on llama.cpp) has a draft set."""
    return f"{MLX_ONLY}: {model_name} runs on llama.cpp without its draft"
