"""Golden test vectors: a prefill then greedy decode steps, with the logits the package must produce.

The same calls drive the torch reference, the numpy MIL interpreter on Linux and `MLModel.prediction`
with one `MLState` on a Mac, so they can be compared number for number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.coreml.convert import INPUT_IDS, mask_inputs

SAMPLE_TEXT = "Cabin exports language models for iPhone and Mac."
PREFILL_TOKENS = 8
DECODE_STEPS = 3
STEPS = ["prefill"] + [f"decode{i}" for i in range(DECODE_STEPS)]

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


def step_inputs(ids: np.ndarray, past: int, window: int | None = None) -> dict[str, np.ndarray]:
    """One call's inputs by name: the ids and the package's mask(s) for `past` cached tokens."""
    return {INPUT_IDS: ids.astype(np.int32), **mask_inputs(ids.shape[1], past, window)}


def record(predict: Predict, prompt: np.ndarray, window: int | None = None) -> dict[str, np.ndarray]:
    """Prefill `prompt`, then decode DECODE_STEPS greedy tokens; every input (`<step>_<input name>`) and
    the logits (`<step>_logits`)."""
    vectors: dict[str, np.ndarray] = {}
    ids, past = prompt, 0
    for step in STEPS:
        inputs = step_inputs(ids, past, window)
        logits = predict(inputs)
        vectors |= {f"{step}_{name}": value for name, value in inputs.items()}
        vectors[f"{step}_logits"] = logits.astype(np.float32)
        past += ids.shape[1]
        ids = np.array([[int(np.argmax(logits[0, -1]))]], dtype=np.int32)
    return vectors


def replay(predict: Predict, golden: dict[str, np.ndarray]) -> Agreement:
    """Feed the golden inputs (not the run's own choices); compare every step's logits and next token."""
    errors, same = [], True
    for step in STEPS:
        prefix = f"{step}_"
        inputs = {key.removeprefix(prefix): value for key, value in golden.items()
                  if key.startswith(prefix) and key != f"{step}_logits"}  # fmt: skip
        got = np.asarray(predict(inputs), dtype=np.float32)
        want = golden[f"{step}_logits"]
        errors.append(relative_difference(got, want))
        same = same and int(got[0, -1].argmax()) == int(want[0, -1].argmax())
    return Agreement(max(errors), same)

