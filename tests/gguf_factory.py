"""Small GGUF files written by the `gguf` package's own writer: complete tiny llamas (random weights, a byte-level
BPE tokenizer, ChatML) that Cabin's importer can import."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from gguf import GGMLQuantizationType, GGUFWriter, LlamaFileType
from gguf.quants import quantize

if TYPE_CHECKING:
    from engine.models.elsewhere import Stores


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
    vocab: int = 288  # the byte-level vocabulary (260 tokens), padded to a multiple of 32
    context: int = 2048
    general_type: str | None = None  # "mmproj" for a vision projector
    split: tuple[int, int] | None = None  # (index from 0, count)
    seed: int = 0


SPECIAL = ["ĠĠ", "<|endoftext|>", "<|im_start|>", "<|im_end|>"]  # one merged token, then ChatML's
CHATML = ("{% for m in messages %}{{ '<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n' }}{% endfor %}"
          "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}")  # fmt: skip


def byte_level_vocab() -> list[str]:
    """GPT-2's 256 byte symbols, a merge and ChatML's special tokens: a complete byte-level BPE vocabulary."""
    printable = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    shifted = iter(range(256, 512))
    return [chr(b) if b in printable else chr(next(shifted)) for b in range(256)] + SPECIAL


def tensor_table(spec: GgufSpec) -> dict[str, tuple[int, ...]]:
    """llama.cpp's names and (rows, columns) of a (tied) llama model's weights."""
    kv, ffn = spec.hidden // spec.heads * spec.kv_heads, 2 * spec.hidden
    table = {"token_embd.weight": (spec.vocab, spec.hidden), "output_norm.weight": (spec.hidden,)}
    for i in range(spec.layers):
        table |= {
            f"blk.{i}.attn_norm.weight": (spec.hidden,),
            f"blk.{i}.attn_q.weight": (spec.hidden, spec.hidden),
            f"blk.{i}.attn_k.weight": (kv, spec.hidden),
            f"blk.{i}.attn_v.weight": (kv, spec.hidden),
            f"blk.{i}.attn_output.weight": (spec.hidden, spec.hidden),
            f"blk.{i}.ffn_norm.weight": (spec.hidden,),
            f"blk.{i}.ffn_gate.weight": (ffn, spec.hidden),
            f"blk.{i}.ffn_up.weight": (ffn, spec.hidden),
            f"blk.{i}.ffn_down.weight": (spec.hidden, ffn),
        }
    return table


def add_tokenizer(writer: GGUFWriter, vocab: int) -> None:
    """A byte-level BPE tokenizer as llama.cpp stores it (one merge: two spaces)."""
    tokens = byte_level_vocab()
    tokens += [f"<unused{i}>" for i in range(vocab - len(tokens))]
    writer.add_tokenizer_model("gpt2")
    writer.add_token_list(tokens)
    writer.add_token_types([1] * 257 + [3] * (vocab - 257))
    writer.add_token_merges(["Ġ Ġ"])
    writer.add_bos_token_id(258)
    writer.add_eos_token_id(259)
    writer.add_chat_template(CHATML)


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
    writer.add_feed_forward_length(2 * spec.hidden)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_rope_freq_base(10000.0)
    add_tokenizer(writer, spec.vocab)


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


def ollama_manifest(blob_digest: str) -> dict:
    """A manifest as Ollama writes it: config, a GGUF model layer, a template layer."""
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": blob_digest, "size": 0}
    template = {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64, "size": 3}
    return {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "1" * 64},
            "layers": [layer, template]}  # fmt: skip


def add_to_ollama(root: Path, name: str, gguf: bytes, registry: str = "registry.ollama.ai") -> Path:
    """Store `gguf` as a blob named by its hash and `name` ("model:tag" or "ns/model:tag") as its manifest."""
    import hashlib
    import json

    digest = hashlib.sha256(gguf).hexdigest()
    blob = root / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(gguf)
    repo, tag = name.split(":")
    namespace, model = repo.split("/") if "/" in repo else ("library", repo)
    manifest = root / "manifests" / registry / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(ollama_manifest(f"sha256:{digest}")))
    return blob


def write_split(folder: Path, stem: str, count: int = 2) -> list[Path]:
    """A model split llama.cpp's way: `stem-0000N-of-0000M.gguf`, each shard with its own header."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_gguf(folder / f"{stem}-{i + 1:05d}-of-{count:05d}.gguf", GgufSpec(split=(i, count), seed=i))
            for i in range(count)]  # fmt: skip


def build_stores(home: Path, mlx_model: Path) -> Stores:
    """A home folder as someone who used Ollama, LM Studio, llama.cpp and GGUF repos from the Hub would have it."""
    import shutil
    from dataclasses import replace

    from engine.models.elsewhere import Stores

    home.mkdir(parents=True)
    tiny = write_gguf(home / "tiny.gguf").read_bytes()
    (home / "tiny.gguf").unlink()
    ollama = home / ".ollama" / "models"
    add_to_ollama(ollama, "smol:135m", tiny)
    add_to_ollama(ollama, "smol:latest", tiny)  # an alias: the same blob
    add_to_ollama(ollama, "bartowski/cut:q4", tiny[:-100])
    lm_studio = home / ".lmstudio" / "models"
    repo = lm_studio / "lmstudio-community" / "Tiny-GGUF"
    repo.mkdir(parents=True)
    write_gguf(repo / "Tiny-Q4_0.gguf", GgufSpec(qtype=GGMLQuantizationType.Q4_0, file_type=LlamaFileType.MOSTLY_Q4_0))
    write_gguf(repo / "mmproj-Tiny-F16.gguf", GgufSpec(arch="clip", general_type="mmproj", qtype=GGMLQuantizationType.F32))
    shutil.copytree(mlx_model, lm_studio / "mlx-community" / "tiny-llama")
    write_split(home / ".cache" / "llama.cpp", "ggml-org_tiny")
    snapshot = home / "hf" / "hub" / "models--TheBloke--Tiny-GGUF" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    write_gguf(snapshot / "tiny.Q8_0.gguf")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("a" * 40)
    return replace(Stores.from_env(home, env={}), hf_cache=home / "hf" / "hub")
