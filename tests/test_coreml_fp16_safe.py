"""RMSNorm on massive activations: the pre-scaled norm stays finite and exact in fp16 where x² overflows."""

from __future__ import annotations

import torch
from transformers.models.gemma3.modeling_gemma3 import Gemma3RMSNorm
from transformers.models.llama.modeling_llama import LlamaRMSNorm

from engine.coreml.fp16_safe import PrescaledRMSNorm, make_fp16_safe


def massive_row() -> torch.Tensor:
    """A residual-stream row like SmolLM2's at layer 15: one channel at 24,064, the rest ordinary."""
    torch.manual_seed(0)
    x = torch.randn(1, 3, 576)
    x[0, 0, 7] = 24064.0
    return x


def reference(norm: torch.nn.Module, x: torch.Tensor) -> torch.Tensor:
    return norm.float()(x.float())


def test_a_plain_fp16_rmsnorm_overflows_on_massive_activations() -> None:
    x = massive_row().half()
    assert torch.isinf(x.pow(2).mean(-1)).any()


def test_the_prescaled_norm_in_fp16_matches_float32() -> None:
    norm = LlamaRMSNorm(576, eps=1e-5)
    torch.nn.init.uniform_(norm.weight, 0.5, 1.5)
    x = massive_row()
    safe = PrescaledRMSNorm(norm.weight, 1e-5, unit_offset=False)
    got = safe.half()(x.half()).float()
    assert torch.isfinite(got).all()
    assert (got - reference(norm, x)).abs().max() < 1e-2 * reference(norm, x).abs().max()


def test_a_zero_row_stays_zero() -> None:
    safe = PrescaledRMSNorm(torch.nn.Parameter(torch.ones(8)), 1e-6, unit_offset=False)
    assert not safe(torch.zeros(1, 8)).any()


def test_every_rms_norm_is_swapped_keeping_gemmas_unit_offset() -> None:
    model = torch.nn.ModuleDict({"a": LlamaRMSNorm(16), "b": torch.nn.Sequential(Gemma3RMSNorm(16))})
    x = torch.randn(2, 16)
    before = [model["a"](x), model["b"](x)]
    assert make_fp16_safe(model) == 2
    assert isinstance(model["a"], PrescaledRMSNorm) and model["b"][0].unit_offset
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(before, [model["a"](x), model["b"](x)]))
