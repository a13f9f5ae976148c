"""config.json for mlx_lm from a GGUF file's metadata (`<arch>.*` keys, as llama.cpp's converter writes them).

Names follow transformers' `integrations/ggml.py` GGUF_CONFIG_MAPPING; values llama.cpp hard-codes rather than
stores (gemma3's sliding-window pattern and attention scale) follow llama.cpp's `llama-model.cpp`.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from gguf import GGUFReader

from engine.errors import ModelError
from engine.models.gguf_tensors import ARCHITECTURES

KEYS = {
    "context_length": "max_position_embeddings",
    "block_count": "num_hidden_layers",
    "feed_forward_length": "intermediate_size",
    "embedding_length": "hidden_size",
    "rope.freq_base": "rope_theta",
    "attention.head_count": "num_attention_heads",
    "attention.head_count_kv": "num_key_value_heads",
    "attention.layer_norm_rms_epsilon": "rms_norm_eps",
    "attention.key_length": "head_dim",
    "attention.sliding_window": "sliding_window",
    "vocab_size": "vocab_size",
}
GEMMA3_SLIDING_PATTERN = 6  # llama.cpp: hparams.set_swa_pattern(6) for LLM_ARCH_GEMMA3
GEMMA3_27B_LAYERS = 62


def field(reader: GGUFReader, key: str, default: Any = None) -> Any:
    """A metadata value as a plain Python value (str, int, float, list)."""
    found = reader.fields.get(key)
    if found is None:
        return default
    value = found.contents()
    return value.item() if isinstance(value, np.generic) else value


def architecture(reader: GGUFReader) -> str:
    arch = field(reader, "general.architecture")
    if arch not in ARCHITECTURES:
        supported = ", ".join(sorted(ARCHITECTURES))
        raise ModelError(f"GGUF architecture '{arch}' is not supported for import (supported: {supported})")
    return arch


def rope_scaling(reader: GGUFReader, arch: str) -> dict[str, Any] | None:
    kind = field(reader, f"{arch}.rope.scaling.type")
    factor = field(reader, f"{arch}.rope.scaling.factor")
    if kind in (None, "none") or not factor:
        return None
    scaling: dict[str, Any] = {"type": kind, "rope_type": kind, "factor": factor}
    if original := field(reader, f"{arch}.rope.scaling.original_context_length"):
        scaling["original_max_position_embeddings"] = original
    return scaling


def build_config(reader: GGUFReader, arch: str, tied: bool) -> dict[str, Any]:
    """mlx_lm's config.json for this file; `tied` when the file has no output.weight (lm_head is the embedding)."""
    model_type, _ = ARCHITECTURES[arch]
    config: dict[str, Any] = {"model_type": model_type, "architectures": [], "tie_word_embeddings": tied}
    for key, name in KEYS.items():
        if (value := field(reader, f"{arch}.{key}")) is not None:
            config[name] = value
    config.setdefault("num_key_value_heads", config.get("num_attention_heads"))
    if "vocab_size" not in config:
        config["vocab_size"] = len(reader.fields["tokenizer.ggml.tokens"].data)
    if scaling := rope_scaling(reader, arch):
        config["rope_scaling"] = scaling
    if arch == "gemma3":
        config.update(gemma3_extras(config))
    if (bos := field(reader, "tokenizer.ggml.bos_token_id")) is not None:
        config["bos_token_id"] = bos
    if (eos := field(reader, "tokenizer.ggml.eos_token_id")) is not None:
        config["eos_token_id"] = eos
    return config


def gemma3_extras(config: dict[str, Any]) -> dict[str, Any]:
    """What llama.cpp hard-codes for gemma3: the local layers' RoPE base, the 5:1 pattern, the query scale."""
    hidden, heads = config["hidden_size"], config["num_attention_heads"]
    head_dim = config.get("head_dim", hidden // heads)
    big = config["num_hidden_layers"] == GEMMA3_27B_LAYERS
    return {
        "rope_local_base_freq": 10_000.0,
        "sliding_window_pattern": GEMMA3_SLIDING_PATTERN,
        "query_pre_attn_scalar": hidden // heads if big else head_dim,
    }
