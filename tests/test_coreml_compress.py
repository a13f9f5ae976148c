"""Compression settings: every large weight compressed even when the group/block size does not divide it."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from engine.coreml.compress import largest_divisor, weight_constants
from engine.coreml.mil_runtime import load_program
from engine.coreml.options import ExportError, ExportOptions
from tests.conftest import _export_coreml


@pytest.fixture(scope="module")
def linear_odd(tmp_path_factory: pytest.TempPathFactory, odd_llama_model: Path) -> tuple[Path, object]:
    """int4 block-wise export of a model whose MLP width (120) the default block of 32 does not divide."""
    return _export_coreml(tmp_path_factory.mktemp("linear") / "odd", odd_llama_model, mode="linear", bits=4)


def test_largest_divisor_not_above_the_request() -> None:
    assert largest_divisor(4096, 32) == 32
    assert largest_divisor(120, 32) == 30
    assert largest_divisor(32_001, 16) == 3
    assert largest_divisor(7, 16) == 7


def test_linear_mode_compresses_every_large_weight(linear_odd: tuple[Path, object]) -> None:
    folder, summary = linear_odd
    program = load_program(folder / summary.package)
    kinds = Counter(op.op_type for op in program.functions["main"].operations)
    assert weight_constants(program, 2048) == []
    assert kinds["constexpr_blockwise_shift_scale"] == len(summary.layers) > 0


def test_a_size_that_does_not_divide_is_replaced_and_said(linear_odd: tuple[Path, object]) -> None:
    summary = linear_odd[1]
    down = [layer for layer in summary.layers if "down_proj" in layer.name]
    assert down and all(layer.group_size == 30 for layer in down)
    assert any("does not divide" in note and "used 30" in note for note in summary.notes)


def test_int4_blocks_keep_reconstruction_error_small(linear_odd: tuple[Path, object]) -> None:
    assert all(layer.relative_error < 0.15 for layer in linear_odd[1].layers)
    assert linear_odd[1].program_top_token_matches


def test_embeddings_can_stay_fp16(llama_model: Path, tmp_path: Path) -> None:
    _, summary = _export_coreml(tmp_path / "e", llama_model, mode="linear", bits=8, embeddings="fp16", verify=False)
    assert "model.embed_tokens.weight" not in {layer.name for layer in summary.layers}
    assert any("embedding" in note for note in summary.notes)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"mode": "palettize", "bits": 5}, "palettize supports 2, 3, 4, 6, 8 bits, not 5"),
        ({"mode": "linear", "bits": 3}, "linear supports 4, 8 bits, not 3"),
        ({"mode": "sparse"}, "unknown mode 'sparse'"),
        ({"context": 8}, "context must be at least 16 tokens"),
        ({"embeddings": "4bit"}, "embeddings must be one of 8bit, fp16"),
    ],
)
def test_bad_options_are_refused_with_one_line(options: dict, message: str, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match=message):
        ExportOptions(model="m", out=tmp_path / "x", **options)


def test_default_group_size_follows_the_mode(tmp_path: Path) -> None:
    assert ExportOptions(model="m", out=tmp_path).group_size == 16
    assert ExportOptions(model="m", out=tmp_path, mode="linear").group_size == 32


@pytest.fixture(scope="module")
def affine_4bit(tmp_path_factory: pytest.TempPathFactory, llama_4bit_model: Path) -> tuple[Path, object]:
    """The MLX 4-bit llama exported keeping its own quantization."""
    return _export_coreml(tmp_path_factory.mktemp("affine") / "keep", llama_4bit_model, mode="affine")


def test_affine_mode_keeps_mlx_quantization_in_blockwise_ops(affine_4bit: tuple[Path, object]) -> None:
    folder, summary = affine_4bit
    program = load_program(folder / summary.package)
    kinds = Counter(op.op_type for op in program.functions["main"].operations)
    assert weight_constants(program, 2048) == []
    assert kinds["constexpr_blockwise_shift_scale"] == len(summary.layers) == 12
    assert {(layer.bits, layer.group_size) for layer in summary.layers} == {(4, 32)}


def test_affine_mode_adds_almost_no_error_where_palettes_add_percents(
    affine_4bit: tuple[Path, object], coreml_palettized: tuple[Path, object]
) -> None:
    assert max(layer.relative_error for layer in affine_4bit[1].layers) < 0.005
    assert min(layer.relative_error for layer in coreml_palettized[1].layers if layer.bits == 4) > 0.02
    assert affine_4bit[1].program_top_token_matches


def test_affine_mode_needs_a_quantized_source(llama_model: Path, tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="is not quantized"):
        _export_coreml(tmp_path / "a", llama_model, mode="affine")


def test_repalettizing_a_4bit_model_says_the_errors_stack(llama_4bit_model: Path, tmp_path: Path) -> None:
    _, summary = _export_coreml(tmp_path / "p", llama_4bit_model, mode="linear", bits=8, verify=False)
    assert any("two rounding errors stacked" in note for note in summary.notes)


def test_tied_embeddings_share_one_compressed_table(tied_qwen2_model: Path, tmp_path: Path) -> None:
    folder, summary = _export_coreml(tmp_path / "t", tied_qwen2_model, mode="linear", bits=8)
    names = [layer.name for layer in summary.layers]
    assert "model.embed_tokens.weight" in names and "lm_head.weight" not in names
    assert summary.torch_vs_mlx < 1e-3 and summary.program_top_token_matches


def test_affine_readme_describes_the_kept_quantization(affine_4bit: tuple[Path, object]) -> None:
    readme = (affine_4bit[0] / "README.md").read_text()
    assert "the source's own MLX 4-bit affine quantization, groups of 32 input values" in readme
