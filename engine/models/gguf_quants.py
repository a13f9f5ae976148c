"""GGUF block formats as MLX affine quantization: codes, scales and biases with the same dequantized values.

llama.cpp's legacy and K-quant formats store, per small block, unsigned or signed integer codes with a scale
(and for some a minimum). MLX's affine form is `value = scale * code + bias` per group of 32/64/128 values
with unsigned codes of 2-8 bits. Every format whose blocks are 32 wide (or share one scale over wider spans)
maps onto it exactly; `gguf.quants.dequantize` is the reference the tests compare against. Formats with
16-wide sub-blocks of their own scale (Q6_K, Q2_K) cannot be written with MLX's smallest group (32): they are
requantized to 8 bits per group of 32 and reported as not exact.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, dequantize
from gguf.quants import Q4_K

Q = GGMLQuantizationType
Codes = tuple[np.ndarray, np.ndarray, np.ndarray]  # codes (blocks, values), scales and biases (blocks, groups)
FLOAT_TYPES = {Q.F32: "F32", Q.F16: "F16", Q.BF16: "BF16"}


@dataclass(frozen=True)
class AffineForm:
    """How one GGUF block type is written in MLX: bits, group size, scale dtype and whether it is exact."""

    bits: int
    group_size: int
    scale_dtype: str  # safetensors dtype of scales and biases: "F16" where the file's fp16 values fit exactly
    exact: bool
    codes: Callable[[np.ndarray], Codes]

    def describe(self) -> str:
        scale = "fp16" if self.scale_dtype == "F16" else "fp32"
        return f"{self.bits}-bit g{self.group_size} ({scale} scales)" + ("" if self.exact else ", requantized")


def _halves(d: np.ndarray) -> np.ndarray:
    return d.view(np.float16).astype(np.float32)


def _nibbles(qs: np.ndarray, n_blocks: int, width: int) -> np.ndarray:
    """Low nibbles of each `width` bytes first, then the high nibbles (llama.cpp's order)."""
    q = qs.reshape(n_blocks, -1, 1, width) >> np.array([0, 4], dtype=np.uint8).reshape(1, 1, 2, 1)
    return (q & np.uint8(0x0F)).reshape(n_blocks, -1)


def _high_bits(qh: np.ndarray, n_blocks: int) -> np.ndarray:
    """The fifth bit of 32 values, packed little-endian in 4 bytes (Q5_0, Q5_1)."""
    return np.unpackbits(qh, axis=-1, bitorder="little").reshape(n_blocks, 32)


def q4_0(blocks: np.ndarray) -> Codes:
    n = len(blocks)
    d = _halves(blocks[:, :2])
    return _nibbles(blocks[:, 2:], n, 16), d, -8 * d


def q4_1(blocks: np.ndarray) -> Codes:
    n = len(blocks)
    return _nibbles(blocks[:, 4:], n, 16), _halves(blocks[:, :2]), _halves(blocks[:, 2:4])


def q5_0(blocks: np.ndarray) -> Codes:
    n = len(blocks)
    d = _halves(blocks[:, :2])
    codes = _nibbles(blocks[:, 6:], n, 16) | (_high_bits(blocks[:, 2:6], n) << 4)
    return codes, d, -16 * d


def q5_1(blocks: np.ndarray) -> Codes:
    n = len(blocks)
    codes = _nibbles(blocks[:, 8:], n, 16) | (_high_bits(blocks[:, 4:8], n) << 4)
    return codes, _halves(blocks[:, :2]), _halves(blocks[:, 2:4])


def q8_0(blocks: np.ndarray) -> Codes:
    d = _halves(blocks[:, :2])
    codes = (blocks[:, 2:].view(np.int8).astype(np.int16) + 128).astype(np.uint8)
    return codes, d, -128 * d


def _k_scales(blocks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Q4_K/Q5_K: per 32-wide sub-block, scale d·sc and bias −dmin·m (6-bit sc and m)."""
    d, dmin = _halves(blocks[:, :2]), _halves(blocks[:, 2:4])
    sc, m = Q4_K.get_scale_min(blocks[:, 4:16])
    return d * sc.astype(np.float32), -(dmin * m.astype(np.float32))


def q4_k(blocks: np.ndarray) -> Codes:
    scales, biases = _k_scales(blocks)
    return _nibbles(blocks[:, 16:], len(blocks), 32), scales, biases


def q5_k(blocks: np.ndarray) -> Codes:
    n = len(blocks)
    scales, biases = _k_scales(blocks)
    qh = blocks[:, 16:48].reshape(n, 1, 32) >> np.arange(8, dtype=np.uint8).reshape(1, 8, 1)
    return _nibbles(blocks[:, 48:], n, 32) | ((qh & 1).reshape(n, 256) << 4), scales, biases


def q3_k(blocks: np.ndarray) -> Codes:
    """Q3_K: value = d·sc·q with sc ∈ [−32, 31] and q ∈ [−4, 3], so sc·q ∈ [−124, 128]: 8-bit codes (sc·q + 127)
    with one scale d (and bias −127·d) over each 128 values, exactly."""
    n = len(blocks)
    d = _halves(blocks[:, 108:110])
    one = np.broadcast_to(np.array([1.0], np.float16).view(np.uint8), (n, 2))
    products = dequantize(np.concatenate([blocks[:, :108], one], axis=1), Q.Q3_K)  # with d = 1: sc·q, exactly
    codes = (np.rint(products).astype(np.int16) + 127).astype(np.uint8)
    return codes, np.repeat(d, 2, axis=1), np.repeat(-127 * d, 2, axis=1)


def requantized_8bit(gguf_type: Q) -> Callable[[np.ndarray], Codes]:
    """Nearest 8-bit form (groups of 32, min/max affine) for formats MLX cannot hold exactly."""

    def codes(blocks: np.ndarray) -> Codes:
        values = dequantize(blocks, gguf_type).reshape(-1, 32)
        low, high = values.min(axis=1, keepdims=True), values.max(axis=1, keepdims=True)
        scale = (high - low) / 255
        safe = np.where(scale == 0, 1, scale)
        q = np.clip(np.rint((values - low) / safe), 0, 255).astype(np.uint8)
        per_block = GGML_QUANT_SIZES[gguf_type][0] // 32
        return q.reshape(len(blocks), -1), scale.reshape(-1, per_block), low.reshape(-1, per_block)

    return codes


FORMS: dict[Q, AffineForm] = {
    Q.Q4_0: AffineForm(4, 32, "F16", True, q4_0),
    Q.Q4_1: AffineForm(4, 32, "F16", True, q4_1),
    Q.Q5_0: AffineForm(5, 32, "F16", True, q5_0),
    Q.Q5_1: AffineForm(5, 32, "F16", True, q5_1),
    Q.Q8_0: AffineForm(8, 32, "F16", True, q8_0),
    Q.Q4_K: AffineForm(4, 32, "F32", True, q4_k),
    Q.Q5_K: AffineForm(5, 32, "F32", True, q5_k),
    Q.Q3_K: AffineForm(8, 128, "F32", True, q3_k),
    Q.Q6_K: AffineForm(8, 32, "F32", False, requantized_8bit(Q.Q6_K)),
    Q.Q2_K: AffineForm(8, 32, "F32", False, requantized_8bit(Q.Q2_K)),
}


def pack(codes: np.ndarray, bits: int) -> np.ndarray:
    """Unsigned codes (rows, n) → MLX's packed uint32 words: a little-endian bit stream of `bits` per value."""
    rows, n = codes.shape
    if bits in (2, 4, 8):
        per_word = 32 // bits
        shifts = (np.arange(per_word, dtype=np.uint32) * bits).reshape(1, 1, per_word)
        words = codes.reshape(rows, -1, per_word).astype(np.uint32) << shifts
    return words.sum(axis=-1, dtype=np.uint32)
    stream = (codes[..., None] >> np.arange(bits, dtype=np.uint8)) & np.uint8(1)
    return np.packbits(stream.reshape(rows, n * bits), axis=-1, bitorder="little").view("<u4")


def to_affine(raw: np.ndarray, gguf_type: Q, form: AffineForm) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One tensor's raw rows (rows, bytes per row) → MLX weight (uint32), scales and biases (rows, groups)."""
    rows = raw.shape[0]
    codes, scales, biases = form.codes(raw.reshape(-1, GGML_QUANT_SIZES[gguf_type][1]))
    dtype = np.float16 if form.scale_dtype == "F16" else np.float32
    scales, biases = scales.reshape(rows, -1).astype(dtype), biases.reshape(rows, -1).astype(dtype)
    if not (np.isfinite(scales).all() and np.isfinite(biases).all()):
        raise ValueError(f"a {gguf_type.name} scale is out of float16 range")
    return pack(codes.reshape(rows, -1), form.bits), scales, biases
