"""Weight compression of the converted program: k-means palettes or int4/int8 block-wise quantization.

coremltools silently skips (with only a log line) a weight whose channel count the group or block
size does not divide. So each large weight gets its own config here, with the largest size not
above the requested one that divides its dimension, and afterwards every large weight is checked
to sit behind a decompression op; any that does not is reported by name.

k-means runs in this process: coremltools' `num_kmeans_workers` forks a pool, and a fork of a
process that has started torch or MLX threads deadlocks.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from engine.coreml.affine import AffineWeight, keep_affine
from engine.coreml.events import LayerError
from engine.coreml.options import DEFAULT_GROUP_SIZE, ExportOptions

EMBEDDING_BITS = 8


@dataclass(frozen=True)
class WeightPlan:
    """How one weight constant of the program will be compressed."""

    const: str
    shape: tuple[int, ...]
    role: str
    method: str
    bits: int
    size: int
    requested: int

    @property
    def adjusted(self) -> bool:
        return self.size != self.requested


@dataclass(frozen=True)
class CompressionResult:
    model: Any
    weights: list[LayerError]
    adjusted: list[WeightPlan]
    uncompressed: list[str]
    restored: dict[str, np.ndarray]
    """Parameter name -> the weight as the device will see it after decompression."""


def largest_divisor(n: int, at_most: int) -> int:
    return next(d for d in range(min(n, at_most), 0, -1) if n % d == 0)


def weight_constants(program: Any, min_elements: int) -> list[tuple[Any, str]]:
    """(const op, role) for every weight a linear or gather reads that has more than `min_elements` values."""
    found = []
    for op in program.functions["main"].operations:
        if op.op_type != "const" or op.outputs[0].rank < 2 or op.outputs[0].val is None:
            continue
        consumers = {child.op_type for child in op.outputs[0].child_ops}
        if consumers & {"linear", "gather", "matmul", "conv"} and op.outputs[0].val.size > min_elements:
            found.append((op, "embedding" if "gather" in consumers else "linear"))
    return found


def plan_weight(op: Any, role: str, options: ExportOptions) -> WeightPlan | None:
    """The method, bits and group/block size for one weight, or None when it stays fp16.

    The embedding table gets int8 blocks even in palettize mode: an 8-bit k-means palette per group
    of rows costs minutes per million rows (256 clusters), while int8 blocks are instant and as exact.
    """
    from coremltools.optimize._utils import select_input_output_channel_axis

    if role == "embedding" and options.embeddings == "fp16":
        return None
    method = "linear" if options.mode == "linear" or role == "embedding" else "palettize"
    bits = EMBEDDING_BITS if role == "embedding" else options.bits
    requested = options.group_size if method == options.mode else DEFAULT_GROUP_SIZE[method]
    input_axis, output_axis = select_input_output_channel_axis(op)
    shape = tuple(op.outputs[0].shape)
    size = largest_divisor(shape[output_axis if method == "palettize" else input_axis], requested)
    return WeightPlan(op.name, shape, role, method, bits, size, requested)


def op_config(plan: WeightPlan) -> Any:
    import coremltools.optimize as cto

    if plan.method == "palettize":
        return cto.coreml.OpPalettizerConfig(
            mode="kmeans",
            nbits=plan.bits,
            granularity="per_grouped_channel",
            group_size=plan.size,
            weight_threshold=0,
        )
    return cto.coreml.OpLinearQuantizerConfig(
        mode="linear_symmetric",
        dtype=f"int{plan.bits}",
        granularity="per_block",
        block_size=plan.size,
        weight_threshold=0,
    )


def readable_name(const: str, parameters: dict[str, str]) -> str:
    """`model_model_layers_0_mlp_up_proj_weight_to_fp16` -> `model.layers.0.mlp.up_proj.weight`."""
    base = const.split("_to_fp16")[0].removeprefix("model_")
    return parameters.get(base, base)


def relative_error(original: np.ndarray, restored: np.ndarray) -> float:
    original = original.astype(np.float32)
    norm = float(np.linalg.norm(original))
    return float(np.linalg.norm(original - restored.astype(np.float32)) / norm) if norm else 0.0


def decompressed_weights(program: Any) -> dict[str, np.ndarray]:
    """Const name of the original weight -> its decompressed value, for every constexpr in the program."""
    out = {}
    for op in program.functions["main"].operations:
        if op.op_type.startswith("constexpr_"):
            out[op.outputs[0].name] = op.materialized_val_inference()
    return out


def quantize(mlmodel: Any, found: list[tuple[Any, str]], options: ExportOptions) -> tuple[list[WeightPlan], Any]:
    """Palettize or linearly quantize, with one explicit config per weight."""
    import coremltools.optimize as cto

    plans = [plan for op, role in found if (plan := plan_weight(op, role, options))]
    passes = {"palettize": cto.coreml.palettize_weights, "linear": cto.coreml.linear_quantize_weights}
    for method, apply in passes.items():
        configs = {plan.const: op_config(plan) for plan in plans if plan.method == method}
        if configs:
            mlmodel = apply(mlmodel, cto.coreml.OptimizationConfig(op_name_configs=configs))
    return plans, mlmodel


def reuse_affine(
    mlmodel: Any, found: list[tuple[Any, str]], names: dict[str, str], affine: dict[str, AffineWeight]
) -> tuple[list[WeightPlan], Any]:
    """Carry the source's MLX quantization over unchanged (see `affine.py`)."""
    by_const = {op.name: affine[name] for op, _ in found if (name := readable_name(op.name, names)) in affine}
    plans = [
        WeightPlan(op.name, tuple(op.outputs[0].shape), role, "affine", w.bits, w.group_size, w.group_size)
        for op, role in found
        if (w := by_const.get(op.name))
    ]
    return plans, keep_affine(mlmodel, by_const)


def compress(
    mlmodel: Any, options: ExportOptions, parameter_names: list[str], affine: dict[str, AffineWeight] | None = None
) -> CompressionResult:
    """Compress `mlmodel`'s large weights per `options`; report per-weight error and anything left in fp16."""
    names = {name.replace(".", "_"): name for name in parameter_names}
    found = weight_constants(mlmodel._mil_program, options.min_weight_elements)
    originals = {op.name: op.outputs[0].val for op, _ in found}
    if options.mode == "affine":
        plans, compressed = reuse_affine(mlmodel, found, names, affine or {})
    else:
        plans, compressed = quantize(mlmodel, found, options)
    restored = decompressed_weights(compressed._mil_program)
    by_parameter = {readable_name(plan.const, names): restored[key] for plan in plans if (key := _restored_key(plan.const, restored))}
    reports = [
        LayerError(name, plan.shape, plan.role, plan.bits, plan.size, relative_error(originals[plan.const], by_parameter[name]))
        for plan in plans
        if (name := readable_name(plan.const, names)) in by_parameter
    ]
    left = [
        readable_name(op.name, names)
        for op, role in weight_constants(compressed._mil_program, options.min_weight_elements)
        if not (role == "embedding" and options.embeddings == "fp16" and options.mode != "affine")
    ]
    return CompressionResult(compressed, reports, [p for p in plans if p.adjusted], left, by_parameter)


def _restored_key(const: str, restored: dict[str, np.ndarray]) -> str | None:
    """The decompressed output named after `const` (coremltools appends _palettized / _quantized)."""
    return next((name for name in restored if name.startswith(const)), None)
