"""Trace the stateful wrapper and convert it to an iOS 18 ML program with coremltools.

`ct.convert` needs a TorchScript (or torch.export) module, not a transformers model. The trace uses
two query tokens: with one, transformers' GQA path bakes in a single-token shortcut and flexible
lengths break.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from engine.coreml.torch_model import StatefulCausalLM

INPUT_IDS, ATTENTION_MASK, SLIDING_MASK, LOGITS = "inputIds", "fullAttentionMask", "slidingAttentionMask", "logits"
KEY_CACHE, VALUE_CACHE = "keyCache", "valueCache"
TRACE_TOKENS = 2


def causal_mask(length: int, past: int, window: int | None = None) -> np.ndarray:
    """The additive fp16 mask for `length` new tokens after `past` cached ones: 0 attends, -inf is masked.
    With a `window`, a token also ignores keys `window` or more positions behind it (sliding attention)."""
    query = past + np.arange(length)[:, None]
    key = np.arange(past + length)[None, :]
    allowed = (key <= query) & (True if window is None else key > query - window)
    return np.where(allowed, 0, -np.inf).astype(np.float16)[None, None]


def mask_inputs(length: int, past: int, window: int | None) -> dict[str, np.ndarray]:
    """The package's mask inputs for one call: the full-attention mask, and the sliding one when there is a window."""
    masks = {ATTENTION_MASK: causal_mask(length, past)}
    if window is not None:
        masks[SLIDING_MASK] = causal_mask(length, past, window)
    return masks


def trace(wrapper: StatefulCausalLM) -> torch.jit.ScriptModule:
    ids = torch.zeros((1, TRACE_TOKENS), dtype=torch.int32)
    masks = [torch.from_numpy(m.astype(np.float32)) for m in mask_inputs(TRACE_TOKENS, 0, wrapper.window).values()]
    with torch.no_grad():
        traced = torch.jit.trace(wrapper.eval(), (ids, *masks), check_trace=False)
    wrapper.reset()
    return traced


def convert(traced: torch.jit.ScriptModule, cache_shape: tuple[int, ...], context: int, window: int | None) -> Any:
    """The fp16 ML program (not compiled: Linux has no Core ML runtime)."""
    import coremltools as ct

    query = ct.RangeDim(lower_bound=1, upper_bound=context, default=1)
    keys = ct.RangeDim(lower_bound=1, upper_bound=context, default=1)
    state = ct.TensorType(shape=cache_shape, dtype=np.float16)
    masks = [ATTENTION_MASK] + ([SLIDING_MASK] if window is not None else [])
    return ct.convert(
        traced,
        inputs=[
            ct.TensorType(name=INPUT_IDS, shape=(1, query), dtype=np.int32),
            *(ct.TensorType(name=name, shape=(1, 1, query, keys), dtype=np.float16) for name in masks),
        ],
        outputs=[ct.TensorType(name=LOGITS, dtype=np.float16)],
        states=[ct.StateType(wrapped_type=state, name=KEY_CACHE), ct.StateType(wrapped_type=state, name=VALUE_CACHE)],
        minimum_deployment_target=ct.target.iOS18,
        compute_precision=ct.precision.FLOAT16,
        convert_to="mlprogram",
        skip_model_load=True,
    )
