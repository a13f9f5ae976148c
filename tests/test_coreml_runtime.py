"""The numpy MIL interpreter runs a saved program: prefill then decode, the state carried between calls."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from engine.coreml.convert import ATTENTION_MASK, INPUT_IDS, LOGITS, causal_mask
from engine.coreml.mil_runtime import MilRuntime
from tests.test_coreml_torch import TOKENS, run, wrapper_for


@pytest.fixture(scope="module")
def runtime(coreml_fp16: tuple[Path, object]) -> MilRuntime:
    folder, summary = coreml_fp16
    return MilRuntime.from_package(folder / summary.package)


def step(runtime: MilRuntime, state: dict, ids: np.ndarray, past: int) -> np.ndarray:
    outputs = runtime.predict({INPUT_IDS: ids, ATTENTION_MASK: causal_mask(ids.shape[1], past)}, state)
    return outputs[LOGITS].astype(np.float32)


def relative(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.abs(got - want).max() / np.abs(want).max())


@pytest.fixture(scope="module")
def reference(qwen2_model: Path) -> np.ndarray:
    return run(wrapper_for(qwen2_model), TOKENS, 0)


def test_state_starts_as_zeroed_fp16_caches(runtime: MilRuntime) -> None:
    state = runtime.make_state()
    assert set(state) == {"keyCache", "valueCache"}
    assert all(a.dtype == np.float16 and a.shape == (2, 1, 2, 32, 16) and not a.any() for a in state.values())


def test_prefill_matches_torch_within_fp16_precision(runtime: MilRuntime, reference: np.ndarray) -> None:
    logits = step(runtime, runtime.make_state(), TOKENS, 0)
    assert logits.shape == reference.shape
    assert relative(logits, reference) < 5e-3
    assert (logits[0].argmax(-1) == reference[0].argmax(-1)).all()


def test_decode_with_the_carried_state_matches_torch(runtime: MilRuntime, reference: np.ndarray) -> None:
    state = runtime.make_state()
    steps = [step(runtime, state, TOKENS[:, :4], 0)] + [step(runtime, state, TOKENS[:, i : i + 1], i) for i in range(4, 8)]
    assert relative(np.concatenate(steps, axis=1), reference) < 5e-3


def test_the_state_is_what_the_decode_step_reads(runtime: MilRuntime, reference: np.ndarray) -> None:
    state = runtime.make_state()
    step(runtime, state, TOKENS[:, :7], 0)
    fresh = runtime.make_state()
    with_history = step(runtime, state, TOKENS[:, 7:], 7)
    without = step(runtime, fresh, TOKENS[:, 7:], 7)
    assert relative(with_history[0, -1], reference[0, -1]) < 5e-3
    assert relative(without[0, -1], reference[0, -1]) > 5e-2


def test_writes_land_in_the_state_rows_of_the_new_tokens(runtime: MilRuntime) -> None:
    state = runtime.make_state()
    step(runtime, state, TOKENS[:, :3], 0)
    filled = np.abs(state["keyCache"]).sum(axis=(0, 1, 2, 4))
    assert filled[:3].all() and not filled[3:].any()
