"""Every architecture Cabin exports to Core ML exports to ONNX too, and runs in ONNX Runtime GenAI like MLX
(tiny random models: fp32 must give MLX float32's greedy tokens; int4 on random weights is not held to a goal)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.coreml.options import ExportError
from engine.onnx.check import GREEDY_TOKENS
from tests.conftest import _export_onnx

ARCHITECTURES = ["qwen2_model", "qwen3_model", "mistral_model", "phi3_model", "gemma3_model"]


@pytest.mark.parametrize("fixture", ARCHITECTURES)
def test_fp32_greedy_tokens_equal_mlx_float32(fixture: str, request: pytest.FixtureRequest, tmp_path: Path) -> None:
    _, summary = _export_onnx(tmp_path / "out", request.getfixturevalue(fixture), precision="fp32")
    assert summary.greedy_same_prefix == summary.greedy_tokens == GREEDY_TOKENS
    assert summary.fidelity.agreement == 1.0


@pytest.mark.parametrize("fixture", ["mistral_model", "phi3_model"])
def test_fp16_with_fewer_kv_heads_than_query_heads_runs_like_mlx(fixture: str, request: pytest.FixtureRequest,
                                                                 tmp_path: Path) -> None:
    _, summary = _export_onnx(tmp_path / "out", request.getfixturevalue(fixture), precision="fp16")
    assert summary.greedy_same_prefix == summary.greedy_tokens == GREEDY_TOKENS


def test_gemma3_fp16_is_refused_before_any_work(gemma3_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="Gemma 3 fp16 .* choose int4 or fp32"):
        _export_onnx(tmp_path / "out", gemma3_model, precision="fp16")
    assert list((tmp_path / "out").iterdir()) == []
