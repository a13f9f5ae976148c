"""How much a package's numbers cost in quality: teacher-forced top-1 agreement and perplexity on a fixed text.

The saved program (run by the numpy MIL interpreter, fp16 as on a device) and the source model in
MLX float32 read the same ~60 tokens in one prefill. Agreement is the share of positions where both
pick the same next token; perplexity is exp(mean negative log-likelihood of each actual next token),
reported for both so a compression mode's cost is visible next to the model's own figure (as Apple's
coreai-models reports fp16 vs palettized perplexity per model).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIDELITY_TEXT = (
    "The old lighthouse keeper climbed the spiral stairs every evening to light the lamp. Ships passing in "
    "the night relied on its steady beam to guide them safely past the rocky coast. One stormy night, the "
    "light went out, and he had to find a way to warn the sailors before it was too late."
)
AGREEMENT_GOAL = 0.95
PERPLEXITY_SLACK = 1.05
"""A package whose perplexity exceeds the reference's by more than this factor is said to cost accuracy."""


@dataclass(frozen=True)
class Fidelity:
    """The package against the source model in MLX float32, over `tokens` tokens of FIDELITY_TEXT."""

    tokens: int
    agreement: float
    perplexity: float
    reference_perplexity: float

    @property
    def costs_accuracy(self) -> bool:
        return self.agreement < AGREEMENT_GOAL or self.perplexity > self.reference_perplexity * PERPLEXITY_SLACK

    def describe(self) -> str:
        return (
            f"top-1 agreement with MLX float32 {self.agreement:.1%} over {self.tokens} tokens; "
            f"perplexity {self.perplexity:.2f} (MLX {self.reference_perplexity:.2f})"
        )


def text_ids(tokenizer: object, vocab_size: int, limit: int) -> np.ndarray:
    """The fixed text's ids, (1, n), at most `limit` of them (the package's context)."""
    ids = [i for i in tokenizer.encode(FIDELITY_TEXT) if 0 <= i < vocab_size]
    return np.array([ids[:limit]], dtype=np.int32)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def perplexity(logits: np.ndarray, ids: np.ndarray) -> float:
    """exp of the mean NLL of ids[1:] under logits[:-1] (logits (n, vocab) for ids (n,))."""
    logprobs = log_softmax(logits[:-1])
    picked = logprobs[np.arange(len(ids) - 1), ids[1:]]
    return float(np.exp(-picked.mean()))


def agreement(got: np.ndarray, want: np.ndarray) -> float:
    """Share of positions whose top token is the same in `got` and `want` (both (n, vocab))."""
    return float((got.argmax(-1) == want.argmax(-1)).mean())


def measure(got: np.ndarray, reference: np.ndarray, ids: np.ndarray) -> Fidelity:
    """`got` and `reference`: (1, n, vocab) logits for `ids` (1, n)."""
    got, reference, row = np.asarray(got[0], np.float32), np.asarray(reference[0], np.float32), ids[0]
    return Fidelity(len(row), agreement(got, reference), perplexity(got, row), perplexity(reference, row))
