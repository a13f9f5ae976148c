"""Tiny GGUF files written with the `gguf` package's own writer: random weights in llama.cpp's names and
layouts, a small byte-level BPE vocabulary, and the metadata llama.cpp's converter writes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from gguf import GGML_QUANT_SIZES, GGMLQuantizationType, GGUFWriter, quantize

Q = GGMLQuantizationType
# Blocks of these types are built from random bytes with sane fp16 scales (gguf.quants cannot quantize to them).
# Byte offsets of each type's fp16 fields inside one block.
HALF_FIELDS = {Q.Q4_K: (0, 2), Q.Q5_K: (0, 2), Q.Q6_K: (208,), Q.Q3_K: (108,), Q.Q2_K: (80, 82), Q.IQ4_NL: (0,)}
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
MERGES = ["h e", "Ġ t", "Ġt he"]  # a few merges (transformers' converter needs some), their tokens added to the vocab
CHATML = ("{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")  # fmt: skip


@dataclass(frozen=True)
class GgufSpec:
    arch: str = "llama"
    linear_type: Q = Q.Q8_0  # type of every projection
    embedding_type: Q = Q.Q8_0
    norm_type: Q = Q.F32
    hidden: int = 256
    intermediate: int = 512
    heads: int = 4
    kv_heads: int = 2
    layers: int = 2
    tied: bool = False
    seed: int = 0
    extra_metadata: dict[str, object] = field(default_factory=dict)  # str, int (uint32), float or list values
    extra_tensors: dict[str, np.ndarray] = field(default_factory=dict)  # float32, e.g. rope_freqs.weight
    chat_template: str | None = None  # None: CHATML
    context_length: int = 512
    add_bos: bool = False  # tokenizer.ggml.add_bos_token: llama.cpp's tokenizer starts every text with BOS
    extra_special: tuple[str, ...] = ()  # control tokens after SPECIAL, e.g. a projector's image delimiters

    @property
    def head_dim(self) -> int:
        return self.hidden // self.heads


def byte_vocab() -> list[str]:
    """GPT-2's byte-to-unicode alphabet: every byte is one token, so any text tokenizes."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    chars, extra = [], 0
    for byte in range(256):
        if byte in printable:
            chars.append(chr(byte))
        else:
            chars.append(chr(256 + extra))
            extra += 1
    return chars


# Formats with a minimum (value = d·sc·q − dmin·m): sub-block minimum fields set equal to the scales and dmin to
# d times the middle code, so weights are centred on zero like trained ones (off-centre random weights grow the
# residual stream by orders of magnitude per layer). Per type: the middle code.
CENTRED = {Q.Q4_K: 8.0, Q.Q5_K: 16.0, Q.Q2_K: 1.5}


def centre(blocks: np.ndarray, kind: Q) -> None:
    """Make each sub-block's 6-bit (Q4_K/Q5_K) or 4-bit (Q2_K) minimum equal its scale."""
    if kind == Q.Q2_K:
        low = blocks[:, :16] & 0x0F
        blocks[:, :16] = low | (low << 4)
    else:
        blocks[:, 8:12] = blocks[:, 4:8]  # m bits 0-5 (and sc/m high bits of sub-blocks 4-7) as sc's
        low = blocks[:, 12:16] & 0x0F
        blocks[:, 12:16] = low | (low << 4)


def random_blocks(rng: np.random.Generator, rows: int, columns: int, kind: Q) -> np.ndarray:
    block, size = GGML_QUANT_SIZES[kind]
    blocks = rng.integers(0, 256, size=(rows * columns // block, size), dtype=np.uint8)
    d = rng.uniform(0.00005, 0.0004, size=(len(blocks), 1)).astype(np.float16)  # weights of about ±0.1
    first, *rest = HALF_FIELDS[kind]
    blocks[:, first : first + 2] = d.view(np.uint8)
    if kind in CENTRED:
        centre(blocks, kind)
        (dmin_at,) = rest
        blocks[:, dmin_at : dmin_at + 2] = (d * CENTRED[kind]).astype(np.float16).view(np.uint8)
    return blocks.reshape(rows, -1)


def weight(rng: np.random.Generator, rows: int, columns: int, kind: Q) -> np.ndarray:
    """(rows, columns) in `kind`: float32/float16 values, or raw quantized bytes."""
    values = (rng.standard_normal((rows, columns)) * 0.05).astype(np.float32)
    if kind == Q.F32:
        return values
    if kind == Q.F16:
        return values.astype(np.float16)
    if kind == Q.BF16:
        return quantize(values, kind)  # raw bytes
    if kind in HALF_FIELDS:
        return random_blocks(rng, rows, columns, kind)
    return quantize(values, kind)


def norm(rng: np.random.Generator, size: int, kind: Q) -> np.ndarray:
    values = 1 + weight(rng, 1, size, Q.F32)[0]
    return quantize(values, kind) if kind == Q.BF16 else values.astype(np.float16 if kind == Q.F16 else np.float32)


def block_tensors(spec: GgufSpec) -> dict[str, tuple[int, int]]:
    """Per-layer projections (rows = output, columns = input) in llama.cpp's names for the architecture."""
    h, i, q, kv = spec.hidden, spec.intermediate, spec.heads * spec.head_dim, spec.kv_heads * spec.head_dim
    separate = {"attn_q": (q, h), "attn_k": (kv, h), "attn_v": (kv, h)}
    attention = {"attn_qkv": (q + 2 * kv, h)} if spec.arch == "phi3" else separate
    mlp = {"ffn_up": (2 * i, h)} if spec.arch == "phi3" else {"ffn_gate": (i, h), "ffn_up": (i, h)}
    return {**attention, "attn_output": (h, q), **mlp, "ffn_down": (h, i)}


def norm_tensors(spec: GgufSpec) -> dict[str, int]:
    norms = {"attn_norm": spec.hidden, "ffn_norm": spec.hidden}
    if spec.arch in ("qwen3", "gemma3"):
        norms |= {"attn_q_norm": spec.head_dim, "attn_k_norm": spec.head_dim}
    if spec.arch == "gemma3":
        norms |= {"post_attention_norm": spec.hidden, "post_ffw_norm": spec.hidden}
    return norms


def spec_vocab(spec: GgufSpec) -> list[str]:
    """Every byte, the merged tokens, then the control tokens (SPECIAL and `spec.extra_special`)."""
    return byte_vocab() + [merge.replace(" ", "") for merge in MERGES] + SPECIAL + list(spec.extra_special)


def add_metadata(writer: GGUFWriter, spec: GgufSpec, vocab: list[str]) -> None:
    a = spec.arch
    writer.add_name(f"tiny-{a}")
    writer.add_uint32(f"{a}.context_length", spec.context_length)
    writer.add_uint32(f"{a}.embedding_length", spec.hidden)
    writer.add_uint32(f"{a}.block_count", spec.layers)
    writer.add_uint32(f"{a}.feed_forward_length", spec.intermediate)
    writer.add_uint32(f"{a}.attention.head_count", spec.heads)
    writer.add_uint32(f"{a}.attention.head_count_kv", spec.kv_heads)
    writer.add_float32(f"{a}.attention.layer_norm_rms_epsilon", 1e-6)
    writer.add_float32(f"{a}.rope.freq_base", 10000.0)
    writer.add_uint32(f"{a}.rope.dimension_count", spec.head_dim)
    if a in ("qwen3", "gemma3"):
        writer.add_uint32(f"{a}.attention.key_length", spec.head_dim)
        writer.add_uint32(f"{a}.attention.value_length", spec.head_dim)
    if a == "gemma3":
        writer.add_uint32(f"{a}.attention.sliding_window", 64)
    adders = {str: writer.add_string, int: writer.add_uint32, float: writer.add_float32, list: writer.add_array}
    for key, value in spec.extra_metadata.items():
        adders[type(value)](key, value)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(vocab)
    control = len(SPECIAL) + len(spec.extra_special)
    writer.add_token_types([1] * (len(vocab) - control) + [3] * control)
    writer.add_token_merges(MERGES)
    writer.add_bos_token_id(vocab.index("<|im_start|>"))
    writer.add_eos_token_id(vocab.index("<|im_end|>"))
    writer.add_unk_token_id(vocab.index("<|endoftext|>"))
    writer.add_pad_token_id(vocab.index("<|endoftext|>"))
    writer.add_add_bos_token(spec.add_bos)
    writer.add_chat_template(spec.chat_template or CHATML)


def write_gguf(path: Path, spec: GgufSpec) -> Path:
    """A tiny `spec.arch` model with random weights, as llama.cpp's converter would lay it out."""
    rng = np.random.default_rng(spec.seed)
    vocab = spec_vocab(spec)
    writer = GGUFWriter(str(path), spec.arch)
    add_metadata(writer, spec, vocab)
    tensors: dict[str, tuple[np.ndarray, Q]] = {}
    tensors["token_embd.weight"] = (weight(rng, len(vocab), spec.hidden, spec.embedding_type), spec.embedding_type)
    for layer in range(spec.layers):
        for name, (rows, columns) in block_tensors(spec).items():
            tensors[f"blk.{layer}.{name}.weight"] = (weight(rng, rows, columns, spec.linear_type), spec.linear_type)
        if spec.arch in ("qwen2", "qwen2vl"):  # Qwen2's Q/K/V biases
            for name, (rows, _) in block_tensors(spec).items():
                if name in ("attn_q", "attn_k", "attn_v"):
                    tensors[f"blk.{layer}.{name}.bias"] = (weight(rng, 1, rows, Q.F32)[0], Q.F32)
        for name, size in norm_tensors(spec).items():
            tensors[f"blk.{layer}.{name}.weight"] = (norm(rng, size, spec.norm_type), spec.norm_type)
    tensors["output_norm.weight"] = (norm(rng, spec.hidden, spec.norm_type), spec.norm_type)
    if not spec.tied:
        tensors["output.weight"] = (weight(rng, len(vocab), spec.hidden, spec.linear_type), spec.linear_type)
    tensors |= {name: (data, Q.F32) for name, data in spec.extra_tensors.items()}
    for name, (data, kind) in tensors.items():
        writer.add_tensor(name, data, raw_dtype=kind if data.dtype == np.uint8 else None)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path


def transformers_logits(gguf: Path, ids: list[int]) -> np.ndarray:
    """transformers' float32 logits: its own GGUF loader dequantizes the file (a path independent of Cabin's)."""
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    logging.set_verbosity_error()
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
    with torch.no_grad():
        return model(torch.tensor([ids])).logits[0].numpy()
