"""Compute-dtype policy: on MLX's CPU backend, run quantized and half-precision models in float32.

On the CPU backend, 4-bit matmuls (with bf16 activations) run at well under 1% of the memory-bandwidth
roofline and fp16/bf16 matmuls are slower than fp32, while fp32 matmuls go to an optimized BLAS. So when
memory allows, weights are dequantized/upcast to float32 once, at load. It is the same model: affine
dequantization with float32 scales reproduces the quantized weights exactly; only accumulation
precision improves. On Metal nothing changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import mlx.core as mx
import mlx.nn as nn
from mlx.utils import tree_flatten, tree_map, tree_unflatten
from engine.models.fit import Fit, Verdict, assess
from engine.models.folder import ModelInfo

FLOAT32_BYTES = 4


@dataclass(frozen=True)
class ComputePlan:
    upcast: bool
    reason: str

    def __str__(self) -> str:
        return f"{'float32' if self.upcast else 'as stored'} ({self.reason})"


def stored_precision(model: Any) -> str | None:
    """'4-bit', 'bfloat16', … when the model is not plain float32, else None."""
    for _, module in model.named_modules():
        if isinstance(module, (nn.QuantizedLinear, nn.QuantizedEmbedding)):
            return f"{module.bits}-bit"
    dtypes = {v.dtype for _, v in tree_flatten(model.parameters()) if mx.issubdtype(v.dtype, mx.floating)}
    half = dtypes - {mx.float32}
    return str(sorted(half, key=str)[0]).removeprefix("mlx.core.") if half else None


def float32_fit(info: ModelInfo, context: int, budget: int) -> Fit:
    """The fit check for the float32 copy: 4 bytes a parameter, plus the KV cache and headroom as usual."""
    return assess(FLOAT32_BYTES * info.parameters, info.kv, context, budget)


def plan_compute(precision: str | None, device: mx.Device, fit: Fit, enabled: bool = True) -> ComputePlan:
    """Upcast only on the CPU backend, for a 4-bit/16-bit model whose float32 copy fits comfortably."""
    if device.type != mx.cpu:
        return ComputePlan(False, "GPU: weights run as stored")
    if not enabled:
        return ComputePlan(False, "float32 upcast turned off")
    if precision is None:
        return ComputePlan(False, "already float32")
    if fit.verdict is not Verdict.FITS:
        return ComputePlan(False, f"{precision} kept: in float32 it {fit.describe()}")
    return ComputePlan(True, f"upcast from {precision} at load for the CPU backend")


def _dequantized(module: nn.Module) -> mx.array:
    scales, biases = module.scales, module.biases
    if module.mode == "affine":
        scales, biases = scales.astype(mx.float32), biases.astype(mx.float32)
    return mx.dequantize(module.weight, scales, biases, module.group_size, module.bits, module.mode).astype(mx.float32)


def upcast_to_float32(model: nn.Module) -> None:
    """Replace quantized layers by float32 ones holding the exact dequantized weights; cast the rest to float32."""
    replacements = []
    for name, module in model.named_modules():
        if isinstance(module, nn.QuantizedLinear):
            weight = _dequantized(module)
            layer = nn.Linear(weight.shape[1], weight.shape[0], bias="bias" in module)
            if "bias" in module:
                layer.bias = module.bias
        elif isinstance(module, nn.QuantizedEmbedding):
            weight = _dequantized(module)
            layer = nn.Embedding(*weight.shape)
        else:
            continue
        layer.weight = weight
        replacements.append((name, layer))
    if replacements:
        model.update_modules(tree_unflatten(replacements))
    floats = tree_map(lambda v: v.astype(mx.float32) if mx.issubdtype(v.dtype, mx.floating) else v, model.parameters())
    model.update(floats)
    mx.eval(model.parameters())


def apply_compute_policy(model: nn.Module, fit: Fit, enabled: bool = True) -> ComputePlan:
    """Decide and apply the compute dtype for a freshly loaded model, given its float32 fit. Worker thread only."""
    plan = plan_compute(stored_precision(model), mx.default_device(), fit, enabled)
    if plan.upcast:
        upcast_to_float32(model)
        mx.clear_cache()
    return plan
