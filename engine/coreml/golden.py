"""Golden test vectors: a prefill then greedy decode steps, with the logits the package must produce.

The same calls drive the torch reference, the numpy MIL interpreter on Linux and `MLModel.prediction`
with one `MLState` on a Mac, so they can be compared number for number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.coreml.convert import ATTENTION_MASK, INPUT_IDS, causal_mask

SAMPLE_TEXT = "Cabin exports language models for iPhone and Mac."
PREFILL_TOKENS = 8
DECODE_STEPS = 3

Predict = Callable[[dict[str, np.ndarray]], np.ndarray]


@dataclass(frozen=True)
class Agreement:
    """How close one run's logits are to the golden ones, over every step."""

    relative_error: float
    same_top_token: bool

    def within(self, tolerance: float) -> bool:
        return self.same_top_token and self.relative_error <= tolerance


def relative_difference(got: np.ndarray, want: np.ndarray) -> float:
    """max |got - want| / max |want|: the logits' error relative to their scale."""
    return float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-6))


def prompt_ids(tokenizer: object, vocab_size: int) -> np.ndarray:
    """PREFILL_TOKENS ids of a fixed sample text (padded by repetition if the tokenizer is coarse)."""
    ids = [i for i in tokenizer.encode(SAMPLE_TEXT) if 0 <= i < vocab_size] or [0]
    while len(ids) < PREFILL_TOKENS:
        ids = ids + ids
    return np.array([ids[:PREFILL_TOKENS]], dtype=np.int32)


def step_inputs(ids: np.ndarray, past: int) -> dict[str, np.ndarray]:
    return {INPUT_IDS: ids.astype(np.int32), ATTENTION_MASK: causal_mask(ids.shape[1], past)}


def record(predict: Predict, prompt: np.ndarray) -> dict[str, np.ndarray]:
    """Prefill `prompt`, then decode DECODE_STEPS greedy tokens; every input and logits array, by name."""
    vectors = {"prefill_input_ids": prompt, "prefill_attention_mask": causal_mask(prompt.shape[1], 0)}
    logits = predict(step_inputs(prompt, 0))
    vectors["prefill_logits"] = logits.astype(np.float32)
    past = prompt.shape[1]
    for step in range(DECODE_STEPS):
        token = np.array([[int(np.argmax(logits[0, -1]))]], dtype=np.int32)
        inputs = step_inputs(token, past)
        logits = predict(inputs)
        vectors[f"decode{step}_input_ids"] = token
        vectors[f"decode{step}_attention_mask"] = inputs[ATTENTION_MASK]
        vectors[f"decode{step}_logits"] = logits.astype(np.float32)
        past += 1
    return vectors


def replay(predict: Predict, golden: dict[str, np.ndarray]) -> Agreement:
    """Feed the golden inputs (not the run's own choices); compare every step's logits and next token."""
    errors, same = [], True
    for step in ["prefill"] + [f"decode{i}" for i in range(DECODE_STEPS)]:
        inputs = {INPUT_IDS: golden[f"{step}_input_ids"], ATTENTION_MASK: golden[f"{step}_attention_mask"]}
        got = np.asarray(predict(inputs), dtype=np.float32)
        want = golden[f"{step}_logits"]
        errors.append(relative_difference(got, want))
        same = same and int(got[0, -1].argmax()) == int(want[0, -1].argmax())
    return Agreement(max(errors), same)

