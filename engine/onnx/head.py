"""The LM head and the token embeddings of an MLX-quantized source, kept at the source's own bits.

The builder leaves the head in float32 when told to (a 4-bit re-rounded head costs ~15 points of top-1
agreement) and re-quantizes the embedding table to 4 bits from the dequantized weights. MLX models keep
both at 8 bits (SmolLM2: one tied table). Here the head becomes an 8- (or 4-) bit `MatMulNBits` with
MLX's codes plus the exact per-block offset (affine.py), and an 8-bit embedding table becomes a Gather
of MLX's codes, scales and biases with q * scale + bias computed for the gathered rows only: both exact,
a quarter of the float32 head's bytes. The head runs with accuracy_level 4 (int8 activations): with float32
activations ONNX Runtime's 8-bit CPU kernel decodes SmolLM2-135M at 4.4 tok/s instead of ~49, for
agreement 100% instead of 98.3% (greedy tokens equal MLX's either way).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from engine.coreml.affine import AffineWeight
from engine.onnx.affine import correction_nodes, matmul_weights

EMBEDDINGS = "model.embed_tokens.weight"
HEAD = "lm_head.weight"


def head_source(affine: dict[str, AffineWeight]) -> AffineWeight | None:
    """The head's MLX weight: its own, or the embedding table it is tied to."""
    return affine.get(HEAD) or affine.get(EMBEDDINGS)


def map_head(node: Any, source: AffineWeight) -> tuple[list[Any], list[Any]] | None:
    """A float `MatMul` head -> [MatMulNBits + correction] nodes and their initializers, or None."""
    from onnx import helper, numpy_helper

    weights = matmul_weights([source], source.group_size, source.bits)
    if weights is None or source.bits not in (4, 8):
        return None
    b, scales, offsets = weights
    n, k = source.q.shape
    name = node.name + "_mlx"
    inits = [numpy_helper.from_array(b, f"{name}.B"), numpy_helper.from_array(scales, f"{name}.scales")]
    nbits = helper.make_node("MatMulNBits", [node.input[0], f"{name}.B", f"{name}.scales"], [node.output[0]],
                             name=name, domain="com.microsoft", K=k, N=n, bits=source.bits,
                             block_size=source.group_size, accuracy_level=4)  # fmt: skip
    nodes, more = correction_nodes(nbits, offsets, source.group_size)
    return [nbits, *nodes], inits + more


def map_embeddings(node: Any, source: AffineWeight) -> tuple[list[Any], list[Any]] | None:
    """An 8-bit MLX table -> Gather q, scales, biases; q * scale + bias for the gathered rows; or None."""
    from onnx import TensorProto, helper, numpy_helper

    if source.bits != 8:
        return None
    vocab, k = source.q.shape
    group = source.group_size
    base, ids, out = node.name + "_mlx", node.input[1], node.output[0]
    inits = [numpy_helper.from_array(source.q.reshape(vocab, k // group, group).astype(np.uint8), f"{base}.q"),
             numpy_helper.from_array(source.scales.astype(np.float32)[..., None], f"{base}.scales"),
             numpy_helper.from_array(source.biases.astype(np.float32)[..., None], f"{base}.biases"),
             numpy_helper.from_array(np.array([0, 0, k], np.int64), f"{base}.shape")]  # fmt: skip
    nodes = [helper.make_node("Gather", [f"{base}.q", ids], [f"{base}/q"], name=f"{base}/GatherQ"),
             helper.make_node("Gather", [f"{base}.scales", ids], [f"{base}/s"], name=f"{base}/GatherScales"),
             helper.make_node("Gather", [f"{base}.biases", ids], [f"{base}/b"], name=f"{base}/GatherBiases"),
             helper.make_node("Cast", [f"{base}/q"], [f"{base}/qf"], to=TensorProto.FLOAT, name=f"{base}/Cast"),
             helper.make_node("Mul", [f"{base}/qf", f"{base}/s"], [f"{base}/qs"], name=f"{base}/Scale"),
             helper.make_node("Add", [f"{base}/qs", f"{base}/b"], [f"{base}/w"], name=f"{base}/Offset"),
             helper.make_node("Reshape", [f"{base}/w", f"{base}.shape"], [out], name=f"{base}/Rows")]  # fmt: skip
    return nodes, inits
