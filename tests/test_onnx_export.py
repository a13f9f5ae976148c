"""`cabin export-onnx` on the real SmolLM2: what the folder holds, and that ONNX Runtime GenAI runs it like MLX."""

from __future__ import annotations

import json
from pathlib import Path

from engine.coreml.fidelity import AGREEMENT_GOAL
from engine.coreml.package import verify_files
from engine.onnx.check import GREEDY_TOKENS
from tests.conftest import ONNX_CONTEXT


def test_fp32_greedy_tokens_equal_mlx_float32(smollm2_onnx_fp32: tuple[Path, object]) -> None:
    _, summary = smollm2_onnx_fp32
    assert summary.greedy_tokens == GREEDY_TOKENS and summary.greedy_same_prefix == GREEDY_TOKENS


def test_fp32_perplexity_is_mlx_float32s(smollm2_onnx_fp32: tuple[Path, object]) -> None:
    _, summary = smollm2_onnx_fp32
    assert summary.fidelity.agreement == 1.0
    assert abs(summary.fidelity.perplexity / summary.fidelity.reference_perplexity - 1) < 1e-3


def test_fp16_greedy_tokens_equal_mlx_float32(smollm2_onnx_fp16: tuple[Path, object]) -> None:
    """SmolLM2 has 3 KV heads for 9 query heads: the fp16 CPU graph repeats them, which ran only once its builder's
    stale shape labels were dropped."""
    _, summary = smollm2_onnx_fp16
    assert summary.greedy_tokens == GREEDY_TOKENS and summary.greedy_same_prefix == GREEDY_TOKENS


def test_fp16_is_half_the_size_of_fp32(smollm2_onnx_fp16: tuple[Path, object],
                                       smollm2_onnx_fp32: tuple[Path, object]) -> None:
    assert abs(smollm2_onnx_fp16[1].export_bytes / smollm2_onnx_fp32[1].export_bytes - 0.5) < 0.05


def test_int4_agrees_with_mlx_float32_on_the_quality_text(smollm2_onnx_int4: tuple[Path, object]) -> None:
    _, summary = smollm2_onnx_int4
    assert summary.fidelity.agreement >= AGREEMENT_GOAL
    assert summary.fidelity.perplexity < summary.fidelity.reference_perplexity * 1.05


def test_int4_keeps_every_mlx_block_instead_of_rounding_again(smollm2_onnx_int4: tuple[Path, object]) -> None:
    _, summary = smollm2_onnx_int4
    assert summary.mapped_layers == 30 * 5 + 2 and summary.requantized_layers == []  # layers, head, embeddings


def test_int4_greedy_tokens_equal_mlx_float32(smollm2_onnx_int4: tuple[Path, object]) -> None:
    _, summary = smollm2_onnx_int4
    assert summary.greedy_same_prefix == summary.greedy_tokens == GREEDY_TOKENS


def test_the_folder_holds_model_config_tokenizer_readme_and_manifest(smollm2_onnx_int4: tuple[Path, object]) -> None:
    folder, _ = smollm2_onnx_int4
    names = {p.name for p in folder.iterdir()}
    assert {"model.onnx", "model.onnx.data", "genai_config.json", "tokenizer.json", "tokenizer_config.json",
            "README.md", "manifest.json"} <= names  # fmt: skip
    assert not any(name.startswith(".") for name in names)


def test_the_manifest_lists_every_file_with_its_hash_and_the_checks(smollm2_onnx_int4: tuple[Path, object]) -> None:
    folder, _ = smollm2_onnx_int4
    manifest = json.loads((folder / "manifest.json").read_text())
    assert verify_files(folder) == []
    assert manifest["recipe"]["precision"] == "int4" and manifest["recipe"]["block_size"] == 32
    assert manifest["checks"]["fidelity"]["agreement"] >= AGREEMENT_GOAL


def test_the_kv_cache_holds_the_context_asked_for(smollm2_onnx_int4: tuple[Path, object]) -> None:
    folder, _ = smollm2_onnx_int4
    config = json.loads((folder / "genai_config.json").read_text())
    assert config["model"]["context_length"] == ONNX_CONTEXT


def test_the_readme_shows_android_how_to_stream_tokens(smollm2_onnx_int4: tuple[Path, object]) -> None:
    folder, summary = smollm2_onnx_int4
    readme = (folder / "README.md").read_text()
    assert "onnxruntime-genai-android" in readme and "generator.generateNextToken()" in readme
    assert f"{summary.fidelity.agreement:.1%}" in readme
