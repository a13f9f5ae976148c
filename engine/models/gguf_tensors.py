"""GGUF tensor names → mlx_lm parameter names, and the layout changes llama.cpp's converter made.

The tables follow gguf-py's `TensorNameMap` (the names llama.cpp's `convert_hf_to_gguf.py` writes) read
backwards. Two converter changes are undone here, as transformers' GGUF loader does
(`modeling_gguf_pytorch_utils.py`):
- llama (and Mistral, stored as llama): the q/k projections' rows are permuted so that llama.cpp's
  interleaved ("normal") RoPE matches HF's rotate-half RoPE; undo it with the inverse row permutation.
  Only whole rows move, so quantized blocks (which run along a row) and their scales stay exact.
- gemma3: every RMSNorm weight is stored with +1 (llama.cpp computes x·w, HF/mlx_lm x·(1+w)); subtract 1.
"""

from __future__ import annotations

import re

import numpy as np

TOP = {
    "token_embd": "model.embed_tokens",
    "output_norm": "model.norm",
    "output": "lm_head",
}
BLOCK = {
    "attn_norm": "input_layernorm",
    "attn_q": "self_attn.q_proj",
    "attn_k": "self_attn.k_proj",
    "attn_v": "self_attn.v_proj",
    "attn_qkv": "self_attn.qkv_proj",
    "attn_output": "self_attn.o_proj",
    "attn_q_norm": "self_attn.q_norm",
    "attn_k_norm": "self_attn.k_norm",
    "ffn_norm": "post_attention_layernorm",
    "ffn_gate": "mlp.gate_proj",
    "ffn_up": "mlp.up_proj",
    "ffn_down": "mlp.down_proj",
}
# Per architecture: mlx_lm's model_type and the block names that differ from BLOCK.
ARCHITECTURES: dict[str, tuple[str, dict[str, str]]] = {
    "llama": ("llama", {}),
    "qwen2": ("qwen2", {}),
    "qwen3": ("qwen3", {}),
    "phi3": ("phi3", {"ffn_up": "mlp.gate_up_proj"}),  # phi3 keeps qkv and gate/up fused, in GGUF and mlx_lm alike
    "gemma3": ("gemma3_text", {
        "ffn_norm": "pre_feedforward_layernorm",
        "post_attention_norm": "post_attention_layernorm",
        "post_ffw_norm": "post_feedforward_layernorm",
    }),  # fmt: skip
}
# Tensors that carry no weights of their own in mlx_lm: rope factors are read into config.json instead.
SKIPPED = {"rope_freqs.weight", "rope_factors_long.weight", "rope_factors_short.weight"}
BLOCK_NAME = re.compile(r"blk\.(\d+)\.(\w+)\.(weight|bias)$")


def supported_architectures() -> list[str]:
    return sorted(ARCHITECTURES)


def mlx_name(arch: str, gguf_name: str) -> str | None:
    """The mlx_lm parameter name of a GGUF tensor, or None if this architecture has no such tensor."""
    _, overrides = ARCHITECTURES[arch]
    if match := BLOCK_NAME.match(gguf_name):
        layer, part, kind = match.groups()
        target = overrides.get(part, BLOCK.get(part))
        return f"model.layers.{layer}.{target}.{kind}" if target else None
    base, _, kind = gguf_name.rpartition(".")
    return f"{TOP[base]}.{kind}" if base in TOP else None


def unpermute_rows(rows: np.ndarray, heads: int) -> np.ndarray:
    """Inverse of llama.cpp's `permute(w, n_head)`: rows (heads·2·half, ...) back to HF's rotate-half order."""
    half = rows.shape[0] // heads // 2
    return rows.reshape(heads, half, 2, *rows.shape[1:]).swapaxes(1, 2).reshape(rows.shape)


def permutation_heads(arch: str, gguf_name: str, heads: int, kv_heads: int) -> int | None:
    """How many heads to un-permute this tensor's rows by, or None when it was stored unpermuted."""
    if arch != "llama":
        return None
    if gguf_name.endswith(("attn_q.weight", "attn_q.bias")):
        return heads
    if gguf_name.endswith(("attn_k.weight", "attn_k.bias")):
        return kv_heads
    return None


def shifted_norm(arch: str, gguf_name: str) -> bool:
    """gemma3's norms were written as 1 + w."""
    return arch == "gemma3" and gguf_name.endswith("norm.weight")
