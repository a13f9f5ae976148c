"""Put an MLX model's own 4-bit affine blocks into the builder's `MatMulNBits` weights: no second rounding.

MLX stores w = scale * q + bias per group of `group_size` input values, q in 0..15, packed eight to a
uint32 with the lowest bits first. `MatMulNBits` (bits 4, block_size = group_size, no zero points)
computes (q - 8) * scale per block, B packed two to a byte with the low nibble first. Since
scale * q + bias = (q - 8) * scale + (8 * scale + bias), each mapped node keeps MLX's q and scales and
gains a small exact correction: the input summed per block times (8 * scale + bias), added to its output
(a ReduceSum and an fp32 MatMul 1/32 the size of the weight). `MatMulNBits` also takes float zero points
(-bias / scale), which is just as exact but leaves ONNX Runtime's fast int4 CPU kernels: 4.7 tok/s
instead of ~50 on SmolLM2-135M. Re-quantizing the dequantized weights instead (the builder's symmetric RTN)
stacks a second rounding on MLX's: on SmolLM2-135M that drops teacher-forced top-1 agreement with MLX
float32 from 98% to 58-73%.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def pack(q: np.ndarray, bits: int, block_size: int) -> np.ndarray:
    """MatMulNBits' B: 4-bit values two to a byte, 8-bit values one to a byte, (N, K / block_size, bytes)."""
    if bits == 4:
        return pack_nibbles(q, block_size)
    return q.astype(np.uint8).reshape(q.shape[0], -1, block_size)


def matmul_weights(parts: list[AffineWeight], block_size: int, bits: int = 4) -> tuple[np.ndarray, ...] | None:
    """(B, scales, offsets) for the rows of `parts` (offsets = 2^(bits-1) * scale + bias, (N, K / block_size)),
    or None when they are not `bits`-bit in `block_size` groups."""
    if any(p.bits != bits or p.group_size != block_size for p in parts):
        return None
    q = np.concatenate([p.q for p in parts])
    scales = np.concatenate([p.scales for p in parts]).astype(np.float32)
    biases = np.concatenate([p.biases for p in parts]).astype(np.float32)
    return pack(q, bits, block_size), scales, (2 ** (bits - 1) * scales + biases).astype(np.float32)


def correction_nodes(node: Any, offsets: np.ndarray, block_size: int) -> tuple[list[Any], list[Any]]:
    """Nodes and initializers that add (input summed per block) @ offsets.T to `node`'s output."""
    from onnx import helper, numpy_helper

    base, out = node.name, node.output[0]
    main, shape, axes, table = f"{out}/nbits", f"{base}/blocks_shape", f"{base}/blocks_axes", f"{base}/offsets"
    initializers = [numpy_helper.from_array(np.array([0, 0, -1, block_size], np.int64), shape),
                    numpy_helper.from_array(np.array([-1], np.int64), axes),
                    numpy_helper.from_array(np.ascontiguousarray(offsets.T), table)]  # fmt: skip
    node.output[0] = main
    nodes = [helper.make_node("Reshape", [node.input[0], shape], [f"{base}/blocks"], name=f"{base}/Blocks"),
             helper.make_node("ReduceSum", [f"{base}/blocks", axes], [f"{base}/block_sums"], keepdims=0,
                              name=f"{base}/BlockSums"),
             helper.make_node("MatMul", [f"{base}/block_sums", table], [f"{base}/offset"], name=f"{base}/Offsets"),
             helper.make_node("Add", [main, f"{base}/offset"], [out], name=f"{base}/AddOffsets")]  # fmt: skip
    return nodes, initializers


def replacement(node: Any, affine: dict[str, AffineWeight]) -> tuple[list[Any], list[Any]] | None:
    """The float LM head or the builder's embedding lookup, rebuilt from MLX's own codes (head.py), or None."""
    from engine.onnx.head import EMBEDDINGS, head_source, map_embeddings, map_head

    if node.op_type == "MatMul" and node.output[0] == "logits" and head_source(affine):
        return map_head(node, head_source(affine))
    if node.op_type in ("Gather", "GatherBlockQuantized") and node.name.startswith("/model/embed_tokens/") \
            and node.input[1] == "input_ids" and EMBEDDINGS in affine:
        return map_embeddings(node, affine[EMBEDDINGS])
    return None


def drop_unused_initializers(model: Any) -> None:
    used = {name for node in model.graph.node for name in node.input}
    keep = [init for init in model.graph.initializer if init.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)


def map_affine(folder: Path, affine: dict[str, AffineWeight]) -> tuple[int, list[str]]:
    """Rewrite each `MatMulNBits` in `folder/model.onnx` whose source is MLX 4-bit with its own blocks.

    Returns (how many were mapped, the nodes left as the builder quantized them)."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(folder / MODEL_FILE), load_external_data=True)
    initializers = {init.name: init for init in model.graph.initializer}
    mapped, kept, ordered, added_initializers = 0, [], [], []
    for node in model.graph.node:
        replaced = replacement(node, affine)
        if replaced is not None:
            ordered += replaced[0]
            added_initializers += replaced[1]
            mapped += 1
            continue
        ordered.append(node)
        if node.op_type != "MatMulNBits":
            continue
        attrs = {a.name: onnx.helper.get_attribute_value(a) for a in node.attribute}
        parts = [affine.get(name) for name in source_names(node.input[1].rsplit(".weight", 1)[0])]
        weights = matmul_weights(parts, attrs["block_size"]) if all(parts) and attrs["bits"] == 4 else None
        old_b = numpy_helper.to_array(initializers[node.input[1]])
        if weights is None or weights[0].shape != old_b.shape or len(node.input) > 3:
            kept.append(node.name)
            continue
        b, scales, offsets = weights
        shape = numpy_helper.to_array(initializers[node.input[2]]).shape
        initializers[node.input[1]].CopyFrom(numpy_helper.from_array(b, node.input[1]))
        initializers[node.input[2]].CopyFrom(numpy_helper.from_array(scales.reshape(shape), node.input[2]))
        nodes, inits = correction_nodes(node, offsets, attrs["block_size"])
        ordered += nodes
        added_initializers += inits
        mapped += 1
    del model.graph.node[:]
    model.graph.node.extend(ordered)
    model.graph.initializer.extend(added_initializers)
    drop_unused_initializers(model)
    (folder / DATA_FILE).unlink()
    onnx.save_model(model, str(folder / MODEL_FILE), save_as_external_data=True, all_tensors_to_one_file=True,
                    location=DATA_FILE, size_threshold=1024)  # fmt: skip
    return mapped, kept
