"""MLX 4-bit blocks written as MatMulNBits weights: the same numbers, not a second rounding."""

from __future__ import annotations

import numpy as np

from engine.coreml.affine import AffineWeight
from engine.onnx.affine import matmul_weights, pack_nibbles, source_names


def mapped_dequantize(b: np.ndarray, scales: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """What a mapped node computes with: MatMulNBits' (q - 8) * scale per block (low nibble first), plus the
    correction's offset per block."""
    q = np.stack([b & 0x0F, b >> 4], axis=-1).reshape(b.shape[0], b.shape[1], -1).astype(np.float32)
    return ((q - 8) * scales[..., None] + offsets[..., None]).reshape(b.shape[0], -1)


def random_affine(rows: int, cols: int, seed: int) -> AffineWeight:
    rng = np.random.default_rng(seed)
    return AffineWeight(q=rng.integers(0, 16, (rows, cols), dtype=np.uint8),
                        scales=rng.uniform(1e-3, 2e-2, (rows, cols // 32)).astype(np.float32),
                        biases=rng.uniform(-0.2, 0.1, (rows, cols // 32)).astype(np.float32), bits=4, group_size=32)  # fmt: skip


def mlx_dequantize(w: AffineWeight) -> np.ndarray:
    scales, biases = (np.repeat(x, w.group_size, axis=1) for x in (w.scales, w.biases))
    return w.q * scales + biases


def test_mapped_blocks_dequantize_to_mlxs_weights() -> None:
    parts = [random_affine(48, 64, 0), random_affine(16, 64, 1)]
    b, scales, offsets = matmul_weights(parts, 32)
    want = np.concatenate([mlx_dequantize(p) for p in parts])
    np.testing.assert_allclose(mapped_dequantize(b, scales, offsets), want, rtol=0, atol=1e-6)


def test_nibbles_pack_the_even_index_low() -> None:
    q = np.array([[1, 2] * 16], dtype=np.uint8)
    assert pack_nibbles(q, 32).shape == (1, 1, 16) and int(pack_nibbles(q, 32)[0, 0, 0]) == 0x21


def test_a_group_size_other_than_the_block_size_is_not_mapped() -> None:
    assert matmul_weights([random_affine(8, 64, 2)], 64) is None


def test_fused_qkv_reads_the_three_mlx_projections_in_order() -> None:
    assert source_names("model.layers.3.attn.qkv_proj.MatMul") == [
        "model.layers.3.self_attn.q_proj.weight", "model.layers.3.self_attn.k_proj.weight",
        "model.layers.3.self_attn.v_proj.weight"]  # fmt: skip
    assert source_names("model.layers.0.mlp.down_proj.MatMul") == ["model.layers.0.mlp.down_proj.weight"]


def test_8bit_blocks_are_one_byte_per_value() -> None:
    rng = np.random.default_rng(3)
    part = AffineWeight(q=rng.integers(0, 256, (4, 64), dtype=np.uint8), scales=np.ones((4, 2), np.float32),
                        biases=np.zeros((4, 2), np.float32), bits=8, group_size=32)  # fmt: skip
    b, _, offsets = matmul_weights([part], 32, bits=8)
    assert b.shape == (4, 2, 32) and (b.reshape(4, 64) == part.q).all() and (offsets == 128).all()
