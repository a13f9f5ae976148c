"""Keep the exported graph inside fp16's range: RMSNorm computed on a pre-scaled input.

Trained models carry massive activations: SmolLM2-135M's residual stream reaches |24,064|, and
x² of anything above 256 overflows fp16 (max 65,504). Core ML runs these ops in fp16 on the GPU
and the Neural Engine, so a norm that squares its raw input returns inf/NaN on a device (and in
the numpy interpreter, which rounds every op to fp16 the same way).

The norm divides by the row's max |x| first: s = x / m has |s| <= 1, so s² cannot overflow, and
    x / sqrt(mean(x²) + eps) = s / sqrt(mean(s²) + (sqrt(eps) / m)²)
is the same value. mean(s²) >= 1 / hidden_size (the largest element is ±1), so elements whose s²
underflows to zero cost nothing measurable. Every architecture's RMSNorm module (q/k norms
included) is swapped for this one before tracing; the math is identical in float32.
"""

from __future__ import annotations

import math

import torch

SMALLEST_SCALE = 1e-4
"""Floor for the row's max |x| (a zero row must not divide by zero; any floor works for the identity above)."""


class PrescaledRMSNorm(torch.nn.Module):
    """RMSNorm with the same weight and epsilon, safe for fp16. `unit_offset`: the weight is stored
    as w - 1 (Gemma's convention, output * (1 + w))."""

    def __init__(self, weight: torch.nn.Parameter, eps: float, unit_offset: bool) -> None:
        super().__init__()
        self.weight = weight
        self.root_eps = math.sqrt(eps)
        self.unit_offset = unit_offset

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        peak = x.abs().amax(dim=-1, keepdim=True).clamp_min(SMALLEST_SCALE)
        scaled = x / peak
        floor = (self.root_eps / peak) ** 2
        normed = scaled * torch.rsqrt(scaled.pow(2).mean(-1, keepdim=True) + floor)
        return normed * (1.0 + self.weight if self.unit_offset else self.weight)


def is_rms_norm(module: torch.nn.Module) -> bool:
    return type(module).__name__.endswith("RMSNorm") and isinstance(getattr(module, "weight", None), torch.Tensor)


def prescaled(module: torch.nn.Module) -> PrescaledRMSNorm:
    eps = getattr(module, "variance_epsilon", None) or getattr(module, "eps")
    unit_offset = type(module).__name__.startswith("Gemma")
    return PrescaledRMSNorm(module.weight, float(eps), unit_offset)


def make_fp16_safe(model: torch.nn.Module) -> int:
    """Swap every RMSNorm of `model` for `PrescaledRMSNorm`, in place; returns how many were swapped."""
    swaps = [(parent, name, child) for parent in model.modules() for name, child in parent.named_children() if is_rms_norm(child)]
    for parent, name, child in swaps:
        setattr(parent, name, prescaled(child))
    return len(swaps)
