"""Small GGUF files written by the `gguf` package's own writer: llama-shaped tensor tables, random values."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType
from gguf.quants import quantize


@dataclass(frozen=True)
class GgufSpec:
    arch: str = "llama"
    name: str | None = "Tiny Llama"
    qtype: GGMLQuantizationType = GGMLQuantizationType.Q8_0
    file_type: int | None = LlamaFileType.MOSTLY_Q8_0
    hidden: int = 64
    layers: int = 2
    heads: int = 4
    kv_heads: int = 2
    vocab: int = 128
    context: int = 2048
    general_type: str | None = None  # "mmproj" for a vision projector
    split: tuple[int, int] | None = None  # (index from 0, count)
    seed: int = 0


def tensor_table(spec: GgufSpec) -> dict[str, tuple[int, ...]]:
    """llama.cpp's names and (rows, columns) of a llama model's weights."""
    kv = spec.hidden // spec.heads * spec.kv_heads
    table = {"token_embd.weight": (spec.vocab, spec.hidden), "output_norm.weight": (spec.hidden,)}
    for i in range(spec.layers):
        table |= {
            f"blk.{i}.attn_norm.weight": (spec.hidden,),
            f"blk.{i}.attn_q.weight": (spec.hidden, spec.hidden),
            f"blk.{i}.attn_k.weight": (kv, spec.hidden),
            f"blk.{i}.attn_v.weight": (kv, spec.hidden),
            f"blk.{i}.attn_output.weight": (spec.hidden, spec.hidden),
        }
    return table


def add_metadata(writer: GGUFWriter, spec: GgufSpec) -> None:
    if spec.name is not None:
        writer.add_name(spec.name)
    if spec.general_type is not None:
        writer.add_type(spec.general_type)
    if spec.file_type is not None:
        writer.add_file_type(int(spec.file_type))
    if spec.split is not None:
        writer.add_uint16("split.no", spec.split[0])
        writer.add_uint16("split.count", spec.split[1])
    writer.add_context_length(spec.context)
    writer.add_embedding_length(spec.hidden)
    writer.add_block_count(spec.layers)
    writer.add_head_count(spec.heads)
    writer.add_head_count_kv(spec.kv_heads)
    writer.add_token_list([f"tok{i}" for i in range(spec.vocab)])


def write_gguf(path: Path, spec: GgufSpec = GgufSpec()) -> Path:
    """Write a GGUF file: 2-D weights in `spec.qtype`, norms in F32."""
    rng = np.random.default_rng(spec.seed)
    writer = GGUFWriter(path, spec.arch)
    add_metadata(writer, spec)
    for name, shape in tensor_table(spec).items():
        values = rng.standard_normal(shape, dtype=np.float32)
        if len(shape) == 1 or spec.qtype == GGMLQuantizationType.F32:
            writer.add_tensor(name, values)
        else:
            writer.add_tensor(name, quantize(values, spec.qtype), raw_dtype=spec.qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
