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

INPUT_IDS, ATTENTION_MASK, LOGITS = "inputIds", "fullAttentionMask", "logits"
KEY_CACHE, VALUE_CACHE = "keyCache", "valueCache"
TRACE_TOKENS = 2


def causal_mask(length: int, past: int) -> np.ndarray:
    """The additive fp16 mask for `length` new tokens after `past` cached ones: 0 attends, -inf is masked."""
    mask = np.zeros((1, 1, length, past + length), dtype=np.float16)
    mask[0, 0, :, past:] = np.triu(np.full((length, length), -np.inf, dtype=np.float16), k=1)
    return mask


def trace(wrapper: StatefulCausalLM) -> torch.jit.ScriptModule:
    ids = torch.zeros((1, TRACE_TOKENS), dtype=torch.int32)
    mask = torch.from_numpy(causal_mask(TRACE_TOKENS, 0).astype(np.float32))
    with torch.no_grad():
        traced = torch.jit.trace(wrapper.eval(), (ids, mask), check_trace=False)
    wrapper.reset()
    return traced


def convert(traced: torch.jit.ScriptModule, cache_shape: tuple[int, ...], context: int) -> Any:
    """The fp16 ML program (not compiled: Linux has no Core ML runtime)."""
    import coremltools as ct

    query = ct.RangeDim(lower_bound=1, upper_bound=context, default=1)
    keys = ct.RangeDim(lower_bound=1, upper_bound=context, default=1)
    state = ct.TensorType(shape=cache_shape, dtype=np.float16)
    return ct.convert(
        traced,
        inputs=[
            ct.TensorType(name=INPUT_IDS, shape=(1, query), dtype=np.int32),
            ct.TensorType(name=ATTENTION_MASK, shape=(1, 1, query, keys), dtype=np.float16),
        ],
        outputs=[ct.TensorType(name=LOGITS, dtype=np.float16)],
        states=[ct.StateType(wrapped_type=state, name=KEY_CACHE), ct.StateType(wrapped_type=state, name=VALUE_CACHE)],
        minimum_deployment_target=ct.target.iOS18,
        compute_precision=ct.precision.FLOAT16,
        convert_to="mlprogram",
        skip_model_load=True,
    )
