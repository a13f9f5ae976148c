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
}
# Llama 3.1/3.2's RoPE scaling is stored only as its result, a `rope_freqs` tensor; these candidates (the values
# Meta's configs use, and neighbours) are tried until one reproduces the tensor.
LLAMA3_LOW_HIGH = ((1.0, 4.0), (1.0, 2.0), (2.0, 4.0), (1.0, 8.0))
LLAMA3_ORIGINAL_CONTEXT = (8192, 4096, 16384, 32768, 2048)
HF_CLASSES = {"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "qwen3": "Qwen3ForCausalLM",
              "gemma3": "Gemma3ForCausalLM", "phi3": "Phi3ForCausalLM"}  # fmt: skip
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


def llama3_factors(dims: int, base: float, factor: float, low: float, high: float, original: int) -> np.ndarray:
    """llama.cpp's convert_hf_to_gguf.py: the per-frequency period multipliers of Llama 3's RoPE scaling."""
    periods = 2 * np.pi * base ** (np.arange(0, dims, 2) / dims)
    smooth = (original / periods - low) / (high - low)
    medium = 1 / ((1 - smooth) / factor + smooth)
    return np.where(periods < original / high, 1.0, np.where(periods > original / low, factor, medium))


def llama3_rope_scaling(reader: GGUFReader, arch: str, config: dict[str, Any]) -> dict[str, Any] | None:
    """Llama 3's rope_scaling parameters, recovered from the file's `rope_freqs` tensor (None if it has none)."""
    tensor = next((t for t in reader.tensors if t.name == "rope_freqs.weight"), None)
    if tensor is None:
        return None
    factors = np.asarray(tensor.data, dtype=np.float64)
    dims = field(reader, f"{arch}.rope.dimension_count", 2 * len(factors))
    factor, base = float(factors.max()), config.get("rope_theta", 10_000.0)
    for (low, high), original in ((pair, n) for pair in LLAMA3_LOW_HIGH for n in LLAMA3_ORIGINAL_CONTEXT):
        if np.allclose(llama3_factors(dims, base, factor, low, high, original), factors, rtol=1e-5):
            return {"rope_type": "llama3", "factor": factor, "low_freq_factor": low, "high_freq_factor": high,
                    "original_max_position_embeddings": original}  # fmt: skip
    raise ModelError("the file's rope_freqs tensor matches no Llama 3 RoPE scaling Cabin knows")


def longrope_scaling(reader: GGUFReader, arch: str) -> dict[str, Any] | None:
    """Phi-3's long-context RoPE: its factors are stored as tensors (rope_factors_long/short)."""
    tensors = {t.name: t for t in reader.tensors}
    if "rope_factors_long.weight" not in tensors:
        return None
    scaling: dict[str, Any] = {"type": "longrope"}
    for kind in ("long", "short"):
        scaling[f"{kind}_factor"] = [float(x) for x in tensors[f"rope_factors_{kind}.weight"].data]
    return scaling


def embedding_rows(reader: GGUFReader) -> int:
    """The vocabulary the weights have (converters may trim or pad it against the tokenizer's)."""
    embedding = next((t for t in reader.tensors if t.name == "token_embd.weight"), None)
    if embedding is None:
        raise ModelError("the file has no token_embd.weight tensor")
    return int(embedding.shape[-1])


def build_config(reader: GGUFReader, arch: str, tied: bool) -> dict[str, Any]:
    """mlx_lm's config.json for this file; `tied` when the file has no output.weight (lm_head is the embedding)."""
    model_type, _ = ARCHITECTURES[arch]
    config: dict[str, Any] = {"model_type": model_type, "architectures": [HF_CLASSES[arch]]}
    config["tie_word_embeddings"] = tied
    for key, name in KEYS.items():
        if (value := field(reader, f"{arch}.{key}")) is not None:
            config[name] = value
    config.setdefault("num_key_value_heads", config.get("num_attention_heads"))
    config["vocab_size"] = embedding_rows(reader)
    scaling = rope_scaling(reader, arch) or llama3_rope_scaling(reader, arch, config) or longrope_scaling(reader, arch)
    if scaling:
        config["rope_scaling"] = scaling
    if original := field(reader, f"{arch}.rope.scaling.original_context_length"):
        config["original_max_position_embeddings"] = original
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
