"""Linux CPU fast path: OpenBLAS for MLX's matmuls, and float32 compute for quantized/half models."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import mlx.core as mx
import mlx.nn as nn
import mlx_lm
import numpy as np
import pytest
from mlx.utils import tree_flatten, tree_map

from engine.blas import ACTIVE, default_threads, select_blas
from engine.compute_dtype import float32_fit, plan_compute, stored_precision, upcast_to_float32
from engine.models.fit import Fit
from engine.models.folder import inspect_model_folder
from engine.generation import Engine, SamplingSettings
from engine.messages import user

GREEDY = SamplingSettings(temperature=0, max_tokens=24)
HELLO = [{"role": "user", "content": "Hello there"}]
PLENTY = 16 * 2**30

GREEDY_TOKENS_SCRIPT = """
import json, sys
from engine.blas import ACTIVE
from engine.generation import Engine, SamplingSettings
from engine.messages import user
engine = Engine()
engine.load(sys.argv[1]).result()
answer = engine.chat([user("Hello there")], SamplingSettings(temperature=0, max_tokens=32)).result()
engine.shutdown()
print(json.dumps({"blas": ACTIVE.name, "tokens": list(answer.token_ids)}))
"""


def greedy_in_subprocess(model: Path, **env: str) -> dict:
    result = subprocess.run(
        [sys.executable, "-c", GREEDY_TOKENS_SCRIPT, str(model)],
        capture_output=True, text=True, timeout=120, env=os.environ | env, check=True,
    )
    return json.loads(result.stdout)


def load_raw(path: Path) -> tuple[nn.Module, object]:
    return mlx_lm.load(str(path))


@pytest.mark.skipif(sys.platform != "linux", reason="the OpenBLAS switch is for MLX's Linux CPU wheel")
def test_openblas_runs_mlx_matmuls_on_linux() -> None:
    assert ACTIVE.name.startswith("OpenBLAS"), str(ACTIVE)


def test_reference_blas_can_be_asked_for(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CABIN_BLAS", "reference")
    assert select_blas("linux").name == "reference BLAS"


def test_macos_changes_nothing() -> None:
    assert select_blas("darwin").name == "Accelerate"


def test_the_blas_swap_changes_no_greedy_token(llama_model: Path) -> None:
    openblas = greedy_in_subprocess(llama_model)
    reference = greedy_in_subprocess(llama_model, CABIN_BLAS="reference")
    assert (openblas["blas"], reference["blas"]) == (ACTIVE.name, "reference BLAS")
    assert openblas["tokens"] == reference["tokens"]


def unpack_affine(module: nn.QuantizedLinear) -> np.ndarray:
    """Dequantize in float64 with numpy, independently of MLX: w = scale * q + bias per group."""
    packed = np.array(module.weight).astype(np.uint64)
    per_word = 32 // module.bits
    shifts = np.arange(per_word, dtype=np.uint64) * module.bits
    q = ((packed[..., None] >> shifts) & ((1 << module.bits) - 1)).reshape(packed.shape[0], -1).astype(np.float64)
    groups = q.reshape(q.shape[0], -1, module.group_size)
    scales = np.array(module.scales.astype(mx.float32)).astype(np.float64)[..., None]
    biases = np.array(module.biases.astype(mx.float32)).astype(np.float64)[..., None]
    return (groups * scales + biases).reshape(q.shape)


def test_upcast_reproduces_the_quantized_weights_exactly(bf16_4bit_model: Path) -> None:
    model, _ = load_raw(bf16_4bit_model)
    quantized = model.model.layers[0].mlp.down_proj
    expected = unpack_affine(quantized)
    upcast_to_float32(model)
    upcast = np.array(model.model.layers[0].mlp.down_proj.weight)
    assert upcast.dtype == np.float32
    np.testing.assert_array_equal(upcast, expected.astype(np.float32))


def test_upcast_model_has_only_float32_weights(bf16_4bit_model: Path) -> None:
    model, _ = load_raw(bf16_4bit_model)
    upcast_to_float32(model)
    assert not any(isinstance(m, (nn.QuantizedLinear, nn.QuantizedEmbedding)) for _, m in model.named_modules())
    assert {v.dtype for _, v in tree_flatten(model.parameters())} == {mx.float32}


def test_engine_greedy_tokens_match_mlx_lm_on_the_same_upcast_weights(engine: Engine, bf16_4bit_model: Path) -> None:
    engine.load(bf16_4bit_model).result()
    assert engine.compute_plan.upcast
    ours = engine.chat([user("Hello there")], GREEDY).result()
    model, tokenizer = load_raw(bf16_4bit_model)
    upcast_to_float32(model)
    prompt = tokenizer.apply_chat_template(HELLO, add_generation_prompt=True)
    theirs = [r.token for r in mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=GREEDY.max_tokens)]
    assert list(ours.token_ids) == theirs[: len(ours.token_ids)]


def logits(model: nn.Module, tokenizer: object) -> np.ndarray:
    prompt = mx.array(tokenizer.apply_chat_template(HELLO, add_generation_prompt=True))[None]
    return np.array(model(prompt).astype(mx.float64))[0]


def test_upcast_only_improves_accumulation_precision(bf16_4bit_model: Path) -> None:
    """Against a float64 run of the exact dequantized weights, float32 is far closer than the stored bf16 model."""
    original, tokenizer = load_raw(bf16_4bit_model)
    upcast, _ = load_raw(bf16_4bit_model)
    upcast_to_float32(upcast)
    exact, _ = load_raw(bf16_4bit_model)
    upcast_to_float32(exact)
    exact.update(tree_map(lambda v: v.astype(mx.float64), exact.parameters()))
    reference = logits(exact, tokenizer)
    upcast_error = np.abs(logits(upcast, tokenizer) - reference).max()
    original_error = np.abs(logits(original, tokenizer) - reference).max()
    assert upcast_error < 1e-4 * np.abs(reference).max()
    assert upcast_error * 100 < original_error


def test_upcast_logits_stay_within_bf16_tolerance_of_the_original(bf16_4bit_model: Path) -> None:
    original, tokenizer = load_raw(bf16_4bit_model)
    upcast, _ = load_raw(bf16_4bit_model)
    upcast_to_float32(upcast)
    before, after = logits(original, tokenizer), logits(upcast, tokenizer)
    assert np.abs(after - before).max() <= 0.05 * np.abs(before).max()


def float32_fit_of(model: Path, budget: int = PLENTY) -> Fit:
    return float32_fit(inspect_model_folder(model), context=2048, budget=budget)


def test_policy_changes_nothing_on_the_gpu(bf16_4bit_model: Path) -> None:
    assert not plan_compute("4-bit", mx.Device(mx.gpu), float32_fit_of(bf16_4bit_model)).upcast


def test_policy_keeps_weights_when_float32_would_not_fit_comfortably(bf16_4bit_model: Path) -> None:
    fit = float32_fit_of(bf16_4bit_model, budget=300 * 2**20)
    plan = plan_compute("4-bit", mx.Device(mx.cpu), fit)
    assert not plan.upcast
    assert plan.reason.startswith("4-bit kept: in float32 it needs ~")


def test_float32_fit_counts_four_bytes_a_parameter(bf16_4bit_model: Path) -> None:
    info = inspect_model_folder(bf16_4bit_model)
    assert float32_fit_of(bf16_4bit_model).weights == 4 * info.parameters > info.weight_bytes


def test_policy_leaves_float32_models_alone(llama_model: Path) -> None:
    model, _ = load_raw(llama_model)
    assert stored_precision(model) is None
    assert plan_compute(None, mx.Device(mx.cpu), float32_fit_of(llama_model)).reason == "already float32"


@pytest.mark.parametrize(("fixture", "precision"), [("bf16_4bit_model", "4-bit"), ("llama_fp16_model", "float16")])
def test_policy_upcasts_quantized_and_half_models_on_the_cpu(fixture: str, precision: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    model, _ = load_raw(path)
    assert stored_precision(model) == precision
    assert plan_compute(precision, mx.Device(mx.cpu), float32_fit_of(path)).upcast


def test_the_user_can_turn_the_upcast_off(engine_as_stored: Engine, bf16_4bit_model: Path) -> None:
    engine_as_stored.load(bf16_4bit_model).result()
    assert engine_as_stored.compute_plan.reason == "float32 upcast turned off"
    kinds = engine_as_stored.run_with_model(lambda model, _: {type(m).__name__ for _, m in model.named_modules()}).result()
    assert "QuantizedLinear" in kinds


@pytest.mark.parametrize(("cores", "threads"), [(1, 1), (2, 1), (8, 7)])
def test_openblas_leaves_a_core_for_the_ui(cores: int, threads: int) -> None:
    assert default_threads(cores) == threads


@pytest.mark.skipif(sys.platform != "linux", reason="the OpenBLAS switch is for MLX's Linux CPU wheel")
def test_openblas_threads_follow_the_environment_when_set() -> None:
    script = "import engine; print(engine.blas.ACTIVE.detail)"
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                            env=os.environ | {"OPENBLAS_NUM_THREADS": "2"})
    assert result.stdout.strip() == "2 threads"
