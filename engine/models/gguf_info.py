"""Describe a GGUF file from its header alone: name, architecture, quantization, size, context length.

The header is parsed here with the `gguf` package's constants rather than `gguf.GGUFReader`: the reader
builds a numpy view per tokenizer string, which took ~6 s for SmolLM2-135M's 49k-token vocabulary on these
machines (a 150k-token Qwen takes proportionally longer). Listing the models found on a machine must be
quick, so string arrays are skipped by their lengths, and no tensor data is read.
"""

from __future__ import annotations

import mmap
import struct
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gguf import GGML_QUANT_SIZES, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GGMLQuantizationType, GGUFValueType, LlamaFileType

from engine.errors import ModelError
from engine.models.fit import KVShape

SUPPORTED_VERSIONS = (2, 3)
MAX_KEPT_ARRAY = 4096  # numeric arrays up to this length are kept (per-layer head counts); longer ones skipped
SCALAR_FORMATS = {
    GGUFValueType.UINT8: "<B",
    GGUFValueType.INT8: "<b",
    GGUFValueType.UINT16: "<H",
    GGUFValueType.INT16: "<h",
    GGUFValueType.UINT32: "<I",
    GGUFValueType.INT32: "<i",
    GGUFValueType.FLOAT32: "<f",
    GGUFValueType.BOOL: "<?",
    GGUFValueType.UINT64: "<Q",
    GGUFValueType.INT64: "<q",
    GGUFValueType.FLOAT64: "<d",
}


@dataclass(frozen=True)
class TensorEntry:
    name: str
    ggml_type: str  # "Q4_1", "F32", ...
    elements: int
    nbytes: int
    end: int  # offset in the file just past its data


@dataclass(frozen=True)
class GgufInfo:
    path: Path
    name: str  # general.name, else the file's stem
    architecture: str
    quant: str  # "Q4_K_M", "Q4_1", "F16", ...
    parameters: int
    file_size: int
    tensor_bytes: int  # what the weights take in memory
    context_length: int | None
    kv: KVShape = KVShape(0, 0, 0)
    shard: tuple[int, int] | None = None  # (index from 1, count) of a split GGUF
    metadata: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def is_projector(self) -> bool:
        """A vision projector (mmproj): it goes beside a chat model, it is not one."""
        return self.metadata.get("general.type") == "mmproj" or self.architecture == "clip"


class _Cursor:
    """Reads little-endian GGUF values from a buffer, advancing an offset."""

    def __init__(self, buffer: mmap.mmap) -> None:
        self.buffer = buffer
        self.offset = 0

    def unpack(self, fmt: str) -> Any:
        (value,) = struct.unpack_from(fmt, self.buffer, self.offset)
        self.offset += struct.calcsize(fmt)
        return value

    def string(self) -> str:
        length = self.unpack("<Q")
        end = self.offset + length
        if end > len(self.buffer):
            raise struct.error("string runs past the end of the file")
        text = self.buffer[self.offset : end].decode("utf-8", errors="replace")
        self.offset = end
        return text

    def skip_string(self) -> None:
        length = self.unpack("<Q")
        self.offset += length

    def count(self) -> int:
        """An element count, refused when it could not fit in the file (a corrupt header)."""
        n = self.unpack("<Q")
        if n > len(self.buffer):
            raise struct.error(f"a count of {n:,} cannot fit in the file")
        return n

    def value(self, kind: int) -> Any:
        kind = GGUFValueType(kind)
        if kind == GGUFValueType.STRING:
            return self.string()
        if kind == GGUFValueType.ARRAY:
            return self.array()
        return self.unpack(SCALAR_FORMATS[kind])

    def array(self) -> tuple | None:
        """A numeric array as a tuple when short; string and long arrays are skipped (None)."""
        kind, count = GGUFValueType(self.unpack("<I")), self.count()
        if kind == GGUFValueType.STRING:
            for _ in range(count):
                self.skip_string()
            return None
        if kind == GGUFValueType.ARRAY:
            raise ValueError("nested arrays are not part of GGUF")
        fmt = SCALAR_FORMATS[kind]
        if count > MAX_KEPT_ARRAY:
            self.offset += count * struct.calcsize(fmt)
            return None
        values = struct.unpack_from(f"<{count}{fmt[1:]}", self.buffer, self.offset)
        self.offset += count * struct.calcsize(fmt)
        return values


def read_header(cursor: _Cursor) -> tuple[dict[str, Any], list[TensorEntry]]:
    """Metadata (string arrays left out) and the tensor table, with each tensor's end offset."""
    if cursor.unpack("<I") != GGUF_MAGIC:
        raise ModelError("it is not a GGUF file")
    version = cursor.unpack("<I")
    if version not in SUPPORTED_VERSIONS:
        raise ModelError(f"GGUF version {version} is not supported (only {', '.join(map(str, SUPPORTED_VERSIONS))})")
    tensor_count, kv_count = cursor.count(), cursor.count()
    metadata = {}
    for _ in range(kv_count):
        key = cursor.string()
        metadata[key] = cursor.value(cursor.unpack("<I"))
    raw = [tensor_info(cursor) for _ in range(tensor_count)]
    alignment = metadata.get("general.alignment") or GGUF_DEFAULT_ALIGNMENT
    data_start = -(-cursor.offset // alignment) * alignment
    return metadata, [TensorEntry(name, kind, n, nbytes, data_start + offset + nbytes) for name, kind, n, nbytes, offset in raw]


def tensor_info(cursor: _Cursor) -> tuple[str, str, int, int, int]:
    name = cursor.string()
    dims = [cursor.unpack("<Q") for _ in range(cursor.unpack("<I"))]
    raw_type, offset = cursor.unpack("<I"), cursor.unpack("<Q")
    try:
        ggml_type = GGMLQuantizationType(raw_type)
    except ValueError:
        raise ModelError(f"tensor {name} has a tensor type this version of gguf does not know ({raw_type})") from None
    elements = 1
    for d in dims:
        elements *= d
    block, type_size = GGML_QUANT_SIZES[ggml_type]
    return name, ggml_type.name, elements, elements * type_size // block, offset


def quant_label(metadata: dict[str, Any], tensors: list[TensorEntry]) -> str:
    """llama.cpp's name for the file's quantization ("Q4_K_M"), else the type holding most weights."""
    try:
        file_type = LlamaFileType(metadata["general.file_type"])
    except (KeyError, ValueError):
        file_type = None
    if file_type is not None and file_type != LlamaFileType.GUESSED:
        return file_type.name.removeprefix("MOSTLY_").removeprefix("ALL_")
    weights = Counter()
    for t in tensors:
        weights[t.ggml_type] += t.elements
    return weights.most_common(1)[0][0] if weights else "unknown"


def kv_shape(metadata: dict[str, Any], arch: str) -> KVShape:
    """Layers, KV heads and head size from `<arch>.*` keys (a per-layer head count takes its largest)."""

    def number(key: str, default: int = 0) -> int:
        value = metadata.get(f"{arch}.{key}", default)
        return max(value, default=default) if isinstance(value, tuple) else int(value)

    heads = number("attention.head_count", 1) or 1
    head_dim = number("attention.key_length") or number("embedding_length") // heads
    return KVShape(number("block_count"), number("attention.head_count_kv", heads) or heads, head_dim)


def shard_of(metadata: dict[str, Any]) -> tuple[int, int] | None:
    count = metadata.get("split.count", 0)
    return (int(metadata.get("split.no", 0)) + 1, int(count)) if count > 1 else None


def parse(path: Path, buffer: mmap.mmap) -> GgufInfo:
    metadata, tensors = read_header(_Cursor(buffer))
    size = len(buffer)
    end = max((t.end for t in tensors), default=0)
    if end > size:
        raise ModelError(f"it is truncated: {size:,} bytes of the {end:,} its header describes")
    arch = str(metadata.get("general.architecture", "unknown"))
    context = metadata.get(f"{arch}.context_length")
    return GgufInfo(
        path=path,
        name=str(metadata.get("general.name") or path.stem),
        architecture=arch,
        quant=quant_label(metadata, tensors),
        parameters=sum(t.elements for t in tensors),
        file_size=size,
        tensor_bytes=sum(t.nbytes for t in tensors),
        context_length=int(context) if context else None,
        kv=kv_shape(metadata, arch),
        shard=shard_of(metadata),
        metadata=metadata,
    )


def inspect_gguf(path: Path) -> GgufInfo:
    """Describe the GGUF file at `path`; a missing, truncated or non-GGUF file raises ModelError (one line)."""
    path = Path(path)
    try:
        with path.open("rb") as f:
            if path.stat().st_size == 0:
                raise ModelError("it is empty")
            with mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as buffer:
                return parse(path, buffer)
    except ModelError as e:
        raise ModelError(f"{path.name}: {e}") from None
    except OSError as e:
        raise ModelError(f"cannot read {path}: {e.strerror or e}") from None
    except (struct.error, ValueError, KeyError, OverflowError, MemoryError) as e:
        raise ModelError(f"{path.name}: its GGUF header is corrupt ({e})") from None
