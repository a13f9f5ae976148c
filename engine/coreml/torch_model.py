"""The PyTorch side of the export: a transformers model with a stateful, slice-updated KV cache.

Written for transformers 5.x (pinned in pyproject.toml): there `Cache` is a plain object whose
`update(key, value, layer_idx)` gets no `cache_position`, and a 4-D attention mask is used as given.
The cache lives in two registered buffers, `keyCache` and `valueCache`, which `torch.jit.trace`
turns into in-place slice updates and coremltools into iOS 18 state reads and writes.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from transformers import AutoConfig, AutoModelForCausalLM
from transformers.cache_utils import Cache
from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

from engine.coreml.fp16_safe import make_fp16_safe

ATTENTION = "cabin_coreml_sdpa"


def repeat_kv(states: torch.Tensor, groups: int) -> torch.Tensor:
    """(batch, kv_heads, seq, dim) -> (batch, kv_heads * groups, seq, dim), as the query heads need."""
    if groups == 1:
        return states
    batch, heads, seq, dim = states.shape
    return states[:, :, None].expand(batch, heads, groups, seq, dim).reshape(batch, heads * groups, seq, dim)


def coreml_sdpa(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    scaling: float | None = None,
    **_: Any,
) -> tuple[torch.Tensor, None]:
    """Attention that coremltools converts to its fused `scaled_dot_product_attention` op.

    transformers always passes `scale=`; coremltools then decomposes the attention into matmuls
    and a softmax, so the scale is passed only when it differs from the default 1/sqrt(head_dim).
    """
    key, value = repeat_kv(key, module.num_key_value_groups), repeat_kv(value, module.num_key_value_groups)
    default = scaling is None or math.isclose(scaling, module.head_dim**-0.5, rel_tol=1e-6)
    extra = {} if default else {"scale": scaling}
    out = torch.nn.functional.scaled_dot_product_attention(query, key, value, attn_mask=attention_mask, **extra)
    return out.transpose(1, 2).contiguous(), None


ALL_ATTENTION_FUNCTIONS.register(ATTENTION, coreml_sdpa)


class SliceUpdateCache(Cache):
    """A KV cache over fixed (layers, batch, kv_heads, context, head_dim) tensors, written by slices.

    `past` is the number of tokens already in the cache; the wrapper sets it before each call from
    the shapes of its inputs, so the trace records it as shape arithmetic, not as a constant.
    """

    def __init__(self, keys: torch.Tensor, values: torch.Tensor) -> None:
        super().__init__(layers=[])
        self.keys, self.values = keys, values
        self.past: Any = 0

    def update(self, key_states: torch.Tensor, value_states: torch.Tensor, layer_idx: int, *_: Any, **__: Any):
        end = self.past + key_states.shape[-2]
        self.keys[layer_idx, :, :, self.past : end, :] = key_states
        self.values[layer_idx, :, :, self.past : end, :] = value_states
        return self.keys[layer_idx, :, :, :end, :], self.values[layer_idx, :, :, :end, :]

    def get_seq_length(self, layer_idx: int = 0) -> int:
        return self.past


def sliding_window(config: Any) -> int | None:
    """The window of a model that mixes sliding-window and global layers (gemma3), else None.

    The package then takes a second mask, `slidingAttentionMask`, for its sliding layers (the cache
    keeps every position for every layer; the mask hides what the window excludes): the input and
    metadata swift-transformers fills for such models.
    """
    if "sliding_attention" in (getattr(config, "layer_types", None) or []):
        return int(config.sliding_window)
    return None


def cache_shape(config: Any, context: int) -> tuple[int, int, int, int, int]:
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    return (config.num_hidden_layers, 1, config.num_key_value_heads, context, head_dim)


class StatefulCausalLM(torch.nn.Module):
    """forward(inputIds (1, n) int32, fullAttentionMask (1, 1, n, past + n) additive) -> logits (1, n, vocab).

    The number of tokens already cached is `fullAttentionMask.shape[-1] - inputIds.shape[-1]`. That is
    the mask swift-transformers' `LanguageModelWithStatefulKVCache` builds for an input of this name
    (`additiveAttentionMask(queryLength:totalLength:)`): one `MLState`, the prompt, then one token a step.
    (Its `causalMask` input is fed zeros one column too long, so the package does not use that name.)
    """

    def __init__(self, model: torch.nn.Module, context: int) -> None:
        super().__init__()
        self.model = model
        shape = cache_shape(model.config, context)
        dtype = next(model.parameters()).dtype
        self.window = sliding_window(model.config)
        self.register_buffer("keyCache", torch.zeros(shape, dtype=dtype))
        self.register_buffer("valueCache", torch.zeros(shape, dtype=dtype))
        self.cache = SliceUpdateCache(self.keyCache, self.valueCache)

    def forward(  # noqa: N803 — Core ML names
        self, inputIds: torch.Tensor, fullAttentionMask: torch.Tensor, slidingAttentionMask: torch.Tensor | None = None
    ) -> torch.Tensor:
        length = inputIds.shape[-1]
        past = fullAttentionMask.shape[-1] - length
        self.cache.past = past
        positions = torch.arange(length, dtype=torch.long).unsqueeze(0) + past
        masks = fullAttentionMask
        if slidingAttentionMask is not None:
            masks = {"full_attention": fullAttentionMask, "sliding_attention": slidingAttentionMask}
        out = self.model(
            input_ids=inputIds,
            attention_mask=masks,
            position_ids=positions,
            cache=self.cache,
            use_cache=True,
        )
        return out.logits

    def reset(self) -> None:
        self.keyCache.zero_()
        self.valueCache.zero_()


def build_torch_model(config: dict, weights: dict[str, torch.Tensor]) -> torch.nn.Module:
    """The transformers causal LM for `config` (an HF config.json dict) holding `weights` (fp32),
    with its norms made fp16-safe (see `fp16_safe.py`)."""
    hf_config = AutoConfig.for_model(**config)
    hf_config._attn_implementation = ATTENTION
    model = AutoModelForCausalLM.from_config(hf_config, dtype=torch.float32)
    result = model.load_state_dict(weights, strict=False)
    allowed = {"lm_head.weight"} if hf_config.tie_word_embeddings else set()
    missing = set(result.missing_keys) - allowed
    if missing or result.unexpected_keys:
        names = sorted(missing) + sorted(result.unexpected_keys)
        raise ValueError(f"the weights do not match a {config['model_type']} model: {', '.join(names[:4])}")
    make_fp16_safe(model)
    return model.eval()
