"""Keep an MLX model's own affine quantization: iOS 18 `constexpr_blockwise_shift_scale`, no second rounding.

MLX stores w = scale * q + bias for each group of `group_size` input values. Core ML's iOS 18 op
computes scale * (data - offset); with data = q (uint4/uint8), the same scale and offset =
-bias / scale, the package holds the source's quantized weights themselves. Scale and offset are
stored in fp16 (a bf16 scale converts exactly; the offset rounds to ~1/256 of one quantization step),
instead of stacking a k-means palette's error on top of MLX's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.coreml.source import SourceModel, layer_quantization


@dataclass(frozen=True)
class AffineWeight:
    """One MLX-quantized weight, unpacked: q is (out, in) integers, scales and biases (out, in / group)."""

    q: np.ndarray
    scales: np.ndarray
    biases: np.ndarray
    bits: int
    group_size: int


def unpack(packed: np.ndarray, bits: int) -> np.ndarray:
    """MLX packs 32 / bits values per uint32, lowest bits first."""
    shifts = np.arange(32 // bits, dtype=np.uint32) * bits
    values = (packed[..., None] >> shifts) & np.uint32((1 << bits) - 1)
    return values.reshape(packed.shape[0], -1).astype(np.uint8)


def read_affine_weights(source: SourceModel) -> dict[str, AffineWeight]:
    """Parameter name (`model.layers.0.mlp.up_proj.weight`) -> its MLX quantization, unpacked."""
    import mlx.core as mx

    from engine.models.folder import weight_files

    arrays: dict[str, Any] = {}
    for file in weight_files(source.info.path):
        arrays.update(mx.load(str(file)))
    out = {}
    for name in arrays:
        prefix = name.removesuffix(".scales")
        if not name.endswith(".scales") or prefix + ".weight" not in arrays:
            continue
        group_size, bits = layer_quantization(source.config, prefix)
        out[prefix + ".weight"] = AffineWeight(
            q=unpack(np.array(arrays[prefix + ".weight"]), bits),
            scales=np.array(arrays[name].astype(mx.float32)),
            biases=np.array(arrays[prefix + ".biases"].astype(mx.float32)),
            bits=bits,
            group_size=group_size,
        )
    return out


def shift_scale_inputs(weight: AffineWeight) -> dict[str, np.ndarray]:
    """data, scale and offset for `constexpr_blockwise_shift_scale`."""
    from coremltools.converters.mil.mil.types.type_mapping import np_uint4_dtype

    data = weight.q.astype(np_uint4_dtype) if weight.bits == 4 else weight.q
    scale = weight.scales.astype(np.float16)
    safe = np.where(weight.scales == 0, 1.0, weight.scales)
    offset = (-weight.biases / safe).astype(np.float16)
    return {"data": data, "scale": scale, "offset": offset}


def keep_affine_pass(by_const: dict[str, AffineWeight]) -> Any:
    """A coremltools graph pass replacing each named weight const with its MLX quantization."""
    from coremltools.converters.mil import Builder as mb
    from coremltools.converters.mil.mil.passes.graph_pass import AbstractGraphPass

    class KeepAffine(AbstractGraphPass):
        def apply(self, prog: Any) -> None:
            function = prog.functions["main"]
            for op in list(function.operations):
                weight = by_const.get(op.name)
                if op.op_type != "const" or weight is None:
                    continue
                with function:
                    new = mb.constexpr_blockwise_shift_scale(**shift_scale_inputs(weight), before_op=op, name=op.name + "_affine")
                op.enclosing_block.replace_uses_of_var_after_op(
                    anchor_op=op, old_var=op.outputs[0], new_var=new, no_check_var_types=True, force_replace=True
                )
                op.enclosing_block.remove_ops([op])

    return KeepAffine()


def keep_affine(mlmodel: Any, by_const: dict[str, AffineWeight]) -> Any:
    """`mlmodel` with the given weights replaced by their MLX quantization (coremltools' own graph-pass path)."""
    import coremltools as ct
    from coremltools.models.utils import _apply_graph_pass

    return _apply_graph_pass(mlmodel, keep_affine_pass(by_const), spec_version=ct._SPECIFICATION_VERSION_IOS_18)
