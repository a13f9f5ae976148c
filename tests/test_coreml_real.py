"""The real SmolLM2-135M-Instruct exported to Core ML: it stays in fp16 range, agrees with MLX, and
swift-transformers' own generation loop gets MLX's greedy answer from it."""

from __future__ import annotations

import json
from pathlib import Path

import mlx.core as mx
import mlx_lm
from mlx_lm.models.cache import make_prompt_cache
import pytest

from engine.compute_dtype import upcast_to_float32
from engine.coreml.mil_runtime import MilRuntime
from tests.swift_driver import greedy_tokens

QUESTION = [{"role": "user", "content": "What is the capital of France?"}]
ANSWER_TOKENS = 8


def mlx_greedy(model_path: Path, prompt: list[int], count: int) -> list[int]:
    """MLX float32's greedy tokens: the prompt once, then one token at a time through its KV cache."""
    model, _ = mlx_lm.load(str(model_path))
    upcast_to_float32(model)
    cache, tokens = make_prompt_cache(model), []
    logits = model(mx.array([prompt]), cache=cache)
    for _ in range(count):
        tokens.append(int(mx.argmax(logits[0, -1]).item()))
        logits = model(mx.array([tokens[-1:]]), cache=cache)
    return tokens


@pytest.fixture(scope="module")
def question(smollm2_model: Path) -> list[int]:
    _, tokenizer = mlx_lm.load(str(smollm2_model))
    return list(tokenizer.apply_chat_template(QUESTION, add_generation_prompt=True))


def test_the_saved_program_agrees_with_mlx_on_a_real_model(smollm2_coreml_fp16: tuple[Path, object]) -> None:
    """The fp16 graph stays in range: SmolLM2's 24,064 activations would overflow a plain fp16 RMSNorm.
    (Affine and palettized packages of this model: bench/coreml_export.py --smollm2; each export costs minutes.)"""
    summary = smollm2_coreml_fp16[1]
    assert summary.fidelity.tokens >= 50
    assert summary.fidelity.agreement >= 0.95
    assert summary.fidelity.perplexity < summary.fidelity.reference_perplexity * 1.05
    assert summary.program_top_token_matches and summary.program_vs_torch < 1e-2


def test_the_manifest_and_readme_report_perplexity_next_to_mlx(smollm2_coreml_fp16: tuple[Path, object]) -> None:
    folder, summary = smollm2_coreml_fp16
    manifest = json.loads((folder / "manifest.json").read_text())["checks"]["fidelity"]
    assert manifest["perplexity"] == summary.fidelity.perplexity and manifest["costs_accuracy"] is False
    assert f"{summary.fidelity.perplexity:.2f} (MLX {summary.fidelity.reference_perplexity:.2f})" in (folder / "README.md").read_text()


def test_swift_transformers_generation_gets_the_mlx_answer(
    smollm2_coreml_fp16: tuple[Path, object], smollm2_model: Path, question: list[int]
) -> None:
    folder, summary = smollm2_coreml_fp16
    runtime = MilRuntime.from_package(folder / summary.package)
    assert greedy_tokens(runtime, question, ANSWER_TOKENS) == mlx_greedy(smollm2_model, question, ANSWER_TOKENS)
