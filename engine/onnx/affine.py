"""Put an MLX model's own 4-bit affine blocks into the builder's `MatMulNBits` weights: no second rounding.

MLX stores w = scale * q + bias per group of `group_size` input values, q in 0..15, packed eight to a
uint32 with the lowest bits first. `MatMulNBits` (bits 4, block_size = group_size) computes
(q - zero_point) * scale per block, B packed two to a byte with the low nibble first, and accepts
float zero points: with zero_point = -bias / scale the ONNX weights are MLX's quantized weights
themselves. Re-quantizing the dequantized weights instead (the builder's symmetric RTN) stacks a
second rounding on MLX's: on SmolLM2-135M that drops teacher-forced top-1 agreement with MLX float32
from ~100% to ~58%.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from engine.coreml.affine import AffineWeight

MODEL_FILE = "model.onnx"
DATA_FILE = "model.onnx.data"
FUSED = {"attn.qkv_proj": ("self_attn.q_proj", "self_attn.k_proj", "self_attn.v_proj")}


def source_names(initializer_prefix: str) -> list[str]:
    """`model.layers.3.attn.qkv_proj.MatMul` -> the MLX weights it holds, in row order."""
    layer, _, local = initializer_prefix.removesuffix(".MatMul").rpartition(".layers.")
    index, _, module = local.partition(".")
    parts = FUSED.get(module, (module.replace("attn.", "self_attn.", 1) if module.startswith("attn.") else module,))
    return [f"{layer}.layers.{index}.{part}.weight" for part in parts]


def pack_nibbles(q: np.ndarray, block_size: int) -> np.ndarray:
    """(N, K) values 0..15 -> (N, K / block_size, block_size / 2) bytes, the even index in the low nibble."""
    n, k = q.shape
    pairs = q.reshape(n, k // 2, 2).astype(np.uint8)
    return (pairs[..., 0] | (pairs[..., 1] << 4)).reshape(n, k // block_size, block_size // 2)


def matmul_weights(parts: list[AffineWeight], block_size: int) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """(B, scales, zero_points) for the rows of `parts`, or None when they are not 4-bit in `block_size` groups."""
    if any(p.bits != 4 or p.group_size != block_size for p in parts):
        return None
    q = np.concatenate([p.q for p in parts])
    scales = np.concatenate([p.scales for p in parts]).astype(np.float32)
    biases = np.concatenate([p.biases for p in parts]).astype(np.float32)
    safe = np.where(scales == 0, 1, scales)
    zero_points = np.where(scales == 0, 0, -biases / safe).astype(np.float32)
    return pack_nibbles(q, block_size), scales, zero_points


def map_affine(folder: Path, affine: dict[str, AffineWeight]) -> tuple[int, list[str]]:
    """Rewrite each `MatMulNBits` in `folder/model.onnx` whose source is MLX 4-bit with its own blocks.

    Returns (how many were mapped, the nodes left as the builder quantized them)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(folder / MODEL_FILE), load_external_data=True)
    initializers = {init.name: init for init in model.graph.initializer}
    mapped, kept = 0, []
    for node in model.graph.node:
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        names = source_names(node.input[1].rsplit(".weight", 1)[0])
        parts = [affine.get(name) for name in names]
        weights = matmul_weights(parts, attrs["block_size"]) if all(parts) and attrs["bits"] == 4 else None
        if weights is None or weights[0].shape != tuple(numpy_helper.to_array(initializers[node.input[1]]).shape):
            kept.append(node.name)
            continue
        b, scales, zero_points = weights
        shape = numpy_helper.to_array(initializers[node.input[2]]).shape
        initializers[node.input[1]].CopyFrom(numpy_helper.from_array(b, node.input[1]))
        initializers[node.input[2]].CopyFrom(numpy_helper.from_array(scales.reshape(shape), node.input[2]))
        zp_name = node.input[1].rsplit(".weight", 1)[0] + ".weight_zero_points"
        model.graph.initializer.append(numpy_helper.from_array(zero_points.reshape(shape), zp_name))
        while len(node.input) < 3:
            node.input.append("")
        del node.input[3:]
        node.input.append(zp_name)
        mapped += 1
    (folder / DATA_FILE).unlink()
    onnx.save_model(model, str(folder / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=DATA_FILE, size_threshold=1024)  # fmt: skip
    return mapped, kept
