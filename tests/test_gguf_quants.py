"""Each GGUF block format, written as MLX affine codes, dequantizes (by MLX) to what llama.cpp's reference
dequantizer (`gguf.quants.dequantize`) gives: exactly where MLX can hold the block layout."""

from __future__ import annotations

import mlx.core as mx
import numpy as np
import pytest
from gguf import GGMLQuantizationType, dequantize

from engine.models.gguf_quants import FORMS, pack, to_affine
from tests.gguf_factory import weight

Q = GGMLQuantizationType
EXACT = [kind for kind, form in FORMS.items() if form.exact]
NOT_EXACT = [kind for kind, form in FORMS.items() if not form.exact]


def mlx_values(raw: np.ndarray, kind: Q) -> np.ndarray:
    form = FORMS[kind]
    codes, scales, biases = to_affine(raw, kind, form)
    as_float32 = (mx.array(scales.astype(np.float32)), mx.array(biases.astype(np.float32)))
    return np.array(mx.dequantize(mx.array(codes), *as_float32, group_size=form.group_size, bits=form.bits))


@pytest.mark.parametrize("kind", EXACT, ids=lambda kind: kind.name)
def test_a_format_mlx_can_hold_dequantizes_to_exactly_llama_cpps_values(kind: Q) -> None:
    raw = weight(np.random.default_rng(0), 16, 512, kind)
    assert np.array_equal(mlx_values(raw, kind), dequantize(raw, kind))


@pytest.mark.parametrize("kind", NOT_EXACT, ids=lambda kind: kind.name)
def test_a_16_wide_sub_block_format_is_within_half_an_8_bit_step_of_llama_cpps_values(kind: Q) -> None:
    raw = weight(np.random.default_rng(1), 16, 512, kind)
    reference = dequantize(raw, kind).reshape(-1, 32)
    half_step = (reference.max(axis=1) - reference.min(axis=1)) / 255 / 2
    error = np.abs(mlx_values(raw, kind).reshape(-1, 32) - reference).max(axis=1)
    assert (error <= half_step * 1.0001 + 1e-7).all()


@pytest.mark.parametrize("kind", [Q.Q4_0, Q.Q4_1, Q.Q5_0, Q.Q5_1, Q.Q8_0], ids=lambda kind: kind.name)
def test_a_legacy_format_keeps_its_fp16_scales_in_fp16(kind: Q) -> None:
    _, scales, biases = to_affine(weight(np.random.default_rng(2), 4, 64, kind), kind, FORMS[kind])
    assert scales.dtype == biases.dtype == np.float16


@pytest.mark.parametrize("bits", [2, 3, 4, 5, 6, 8])
def test_packed_codes_are_the_layout_mlx_unpacks(bits: int) -> None:
    codes = np.random.default_rng(bits).integers(0, 2**bits, size=(3, 128), dtype=np.uint8)
    ones, zeros = mx.ones((3, 4)), mx.zeros((3, 4))
    unpacked = mx.dequantize(mx.array(pack(codes, bits)), ones, zeros, group_size=32, bits=bits)
    assert np.array_equal(np.array(unpacked), codes.astype(np.float32))
