"""Import a GGUF file (llama.cpp, Ollama, LM Studio) as an MLX model folder, keeping every tensor's quantization.

Each quantized tensor becomes MLX affine codes (`weight`, `scales`, `biases`) whose dequantized values equal
llama.cpp's (gguf_quants.py); names and layouts follow mlx_lm (gguf_tensors.py); config.json comes from the
metadata (gguf_config.py) and the tokenizer from transformers' GGUF tokenizer converter. Everything is written
to a hidden folder beside the destination and renamed at the end, so a failure or a cancel leaves nothing.
No MLX call is made: the weights are written with numpy, so this runs on any thread.
"""

from __future__ import annotations

import json
import re
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from gguf import GGMLQuantizationType, GGUFReader, ReaderTensor

from engine.errors import CancelledByUser, ModelError
from engine.memory import format_bytes
from engine.models import local
from engine.models.gguf_config import architecture, build_config, field
from engine.models.gguf_quants import FLOAT_TYPES, FORMS, AffineForm, to_affine
from engine.models.gguf_tensors import SKIPPED, mlx_name, permutation_heads, shifted_norm, unpermute_rows
from engine.models.gguf_tokenizer import write_tokenizer
from engine.models.safetensors_out import SafetensorsWriter, TensorSpec

CHUNK_VALUES = 1 << 22  # rows are converted in chunks of about this many values (bounds peak memory)
WEIGHTS_FILE = "model.safetensors"
Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class ImportSummary:
    """What an import did: for the CLI and the Models pane."""

    source: Path
    dest: Path
    architecture: str
    forms: tuple[tuple[str, str, int], ...]  # (GGUF type, MLX form, tensor count)
    size_before: int
    size_after: int
    not_exact: tuple[str, ...]  # GGUF names of tensors requantized because MLX cannot hold their blocks
    seconds: float
    projector_left: Path | None = None
    """The source's vision projector, which the MLX copy does not carry (it reads text only)."""

    def lines(self) -> list[str]:
        ratio = self.size_after / self.size_before if self.size_before else 0
        lines = [f"Imported {self.source.name} ({self.architecture}) to {self.dest}"]
        lines += [f"  {gguf} -> {form}: {count} tensor{'s' * (count != 1)}" for gguf, form, count in self.forms]
        lines.append(f"Size: {format_bytes(self.size_before)} -> {format_bytes(self.size_after)} ({ratio:.2f}x)")
        if self.not_exact:
            more = len(self.not_exact) - 5
            shown = ", ".join(self.not_exact[:5]) + (f" and {more} more" if more > 0 else "")
            lines.append(f"Not kept exact (16-wide blocks, requantized to 8-bit): {shown}")
        else:
            lines.append("Every tensor kept exact.")
        if self.projector_left is not None:
            lines.append(f"The vision projector ({self.projector_left.name}) is not imported: the MLX copy reads text "
                         f"only. To ask about images, run {self.source.name} as it is.")
        return lines


@dataclass(frozen=True)
class TensorJob:
    """One GGUF tensor and how it is written."""

    tensor: ReaderTensor
    name: str  # mlx_lm parameter name
    form: AffineForm | None  # None: a float tensor written as it is
    heads: int | None  # un-permute rows by this many heads

    @property
    def gguf_type(self) -> GGMLQuantizationType:
        return self.tensor.tensor_type

    @property
    def rows(self) -> int:
        return int(self.tensor.shape[-1]) if len(self.tensor.shape) > 1 else int(self.tensor.shape[0])

    @property
    def columns(self) -> int:
        return int(np.prod(self.tensor.shape[:-1])) if len(self.tensor.shape) > 1 else 1

    def float_dtype(self, arch: str) -> str:
        return "F32" if shifted_norm(arch, self.tensor.name) else FLOAT_TYPES[self.gguf_type]

    def specs(self, arch: str) -> list[TensorSpec]:
        if self.form is None:
            shape = tuple(int(d) for d in reversed(self.tensor.shape))
            return [TensorSpec(self.name, self.float_dtype(arch), shape)]
        base = self.name.removesuffix(".weight")
        groups = (self.rows, self.columns // self.form.group_size)
        return [TensorSpec(self.name, "U32", (self.rows, self.columns * self.form.bits // 32)),
                TensorSpec(f"{base}.scales", self.form.scale_dtype, groups),
                TensorSpec(f"{base}.biases", self.form.scale_dtype, groups)]  # fmt: skip

    def describe(self) -> str:
        return self.form.describe() if self.form else f"{FLOAT_TYPES[self.gguf_type]} unchanged"


def default_import_dest(source: Path, name: str | None = None) -> Path:
    """A folder in Cabin's models folder (where `cabin models convert` writes), named after the file."""
    base = name or re.sub(r"\.gguf$", "", source.name, flags=re.I)
    return local.converted_dir() / base


def open_gguf(source: Path) -> GGUFReader:
    if not source.is_file():
        raise ModelError(f"{source} does not exist")
    with source.open("rb") as f:
        if f.read(4) != b"GGUF":
            raise ModelError(f"{source.name} is not a GGUF file")
    try:
        return GGUFReader(source)
    except (ValueError, IndexError, KeyError, OSError, OverflowError) as e:
        raise ModelError(f"{source.name} is truncated or corrupt ({e})") from None


def form_for(tensor: ReaderTensor, name: str) -> AffineForm | None:
    """The MLX form of a tensor; refuses types that have none."""
    kind = tensor.tensor_type
    if kind in FLOAT_TYPES:
        return None
    if kind not in FORMS:
        raise ModelError(f"tensor {tensor.name} is {kind.name}, which Cabin cannot import "
                         f"(supported: F32, F16, BF16, {', '.join(t.name for t in FORMS)})")  # fmt: skip
    form = FORMS[kind]
    # The embedding's scales stay float32: its dequantized rows are the residual stream, computed in float32.
    return replace(form, scale_dtype="F32") if name.endswith("embed_tokens.weight") else form


def plan(reader: GGUFReader, arch: str) -> list[TensorJob]:
    heads = field(reader, f"{arch}.attention.head_count")
    kv_heads = field(reader, f"{arch}.attention.head_count_kv", heads)
    jobs = []
    for tensor in reader.tensors:
        if tensor.name in SKIPPED:
            continue
        name = mlx_name(arch, tensor.name)
        if name is None:
            raise ModelError(f"tensor {tensor.name} has no place in mlx_lm's {arch} model")
        heads_to_undo = permutation_heads(arch, tensor.name, heads, kv_heads)
        jobs.append(TensorJob(tensor, name, form_for(tensor, name), heads_to_undo))
    return jobs


def raw_rows(job: TensorJob) -> np.ndarray:
    """The tensor's data as (rows, ...) in mlx_lm's row order (llama's q/k permutation undone)."""
    data = job.tensor.data
    rows = data.reshape(job.rows, -1) if data.ndim > 1 or job.form else data
    return unpermute_rows(rows, job.heads) if job.heads else rows


def as_float32(rows: np.ndarray, kind: GGMLQuantizationType) -> np.ndarray:
    """Float tensor data as float32; the reader gives BF16 as raw bytes."""
    if kind == GGMLQuantizationType.BF16:
        return (rows.view(np.uint16).astype(np.uint32) << 16).view(np.float32)
    return rows.astype(np.float32)


def write_job(out: SafetensorsWriter, job: TensorJob, arch: str) -> None:
    rows = raw_rows(job)
    if job.form is None:
        shifted = shifted_norm(arch, job.tensor.name)
        out.write(job.name, 0, as_float32(rows, job.gguf_type) - 1 if shifted else rows)
        return
    base = job.name.removesuffix(".weight")
    step = max(1, CHUNK_VALUES // job.columns)
    for start in range(0, job.rows, step):
        weight, scales, biases = to_affine(np.asarray(rows[start : start + step]), job.gguf_type, job.form)
        out.write(job.name, start, weight)
        out.write(f"{base}.scales", start, scales)
        out.write(f"{base}.biases", start, biases)


def layer_quantization(form: AffineForm) -> dict[str, object]:
    return {"group_size": form.group_size, "bits": form.bits, "mode": "affine"}


def quantization_config(jobs: list[TensorJob]) -> dict[str, object] | None:
    """mlx_lm's `quantization` entry: a default plus one entry per quantized layer (they differ by type)."""
    quantized = [job for job in jobs if job.form]
    if not quantized:
        return None
    forms = Counter((job.form.bits, job.form.group_size) for job in quantized)
    (bits, group), _ = forms.most_common(1)[0]
    layers = {job.name.removesuffix(".weight"): layer_quantization(job.form) for job in quantized}
    return {"group_size": group, "bits": bits, "mode": "affine", **layers}


def write_weights(
    tmp: Path, jobs: list[TensorJob], arch: str, on_progress: Progress | None, cancel: threading.Event | None
) -> None:
    specs = [spec for job in jobs for spec in job.specs(arch)]
    total = sum(job.tensor.n_bytes for job in jobs) or 1
    done = 0
    with SafetensorsWriter(tmp / WEIGHTS_FILE, specs, metadata={"format": "mlx"}) as out:
        for job in jobs:
            if cancel is not None and cancel.is_set():
                raise CancelledByUser("import cancelled")
            if on_progress:
                on_progress(done / total, f"{job.tensor.name} ({job.gguf_type.name})")
            write_job(out, job, arch)
            done += job.tensor.n_bytes


def summarize(source: Path, dest: Path, arch: str, jobs: list[TensorJob], seconds: float) -> ImportSummary:
    forms = Counter((job.gguf_type.name, job.describe()) for job in jobs)
    size_after = sum(f.stat().st_size for f in dest.iterdir() if f.suffix == ".safetensors")
    return ImportSummary(
        source=source,
        dest=dest,
        architecture=arch,
        forms=tuple((kind, form, count) for (kind, form), count in forms.most_common()),
        size_before=source.stat().st_size,
        size_after=size_after,
        not_exact=tuple(job.tensor.name for job in jobs if job.form and not job.form.exact),
        seconds=seconds,
        projector_left=projector_of(source),
    )


def projector_of(source: Path) -> Path | None:
    from engine.models.gguf_info import inspect_gguf
    from engine.models.gguf_projector import usable_projector

    found = usable_projector(inspect_gguf(source))
    return found.path if found else None


def import_gguf(
    source: Path,
    dest: Path,
    *,
    overwrite: bool = False,
    on_progress: Progress | None = None,
    cancel: threading.Event | None = None,
) -> ImportSummary:
    """Import the GGUF file `source` into the MLX model folder `dest`; raises ModelError or CancelledByUser."""
    started = time.perf_counter()
    source, dest = Path(source).expanduser(), Path(dest).expanduser()
    if dest.exists() and not overwrite:
        raise ModelError(f"{dest} already exists: choose another name or pass --overwrite")
    reader = open_gguf(source)
    if (parts := field(reader, "split.count", 1)) > 1:
        raise ModelError(f"{source.name} is one part of a split GGUF ({parts} parts): "
                         "join them first with llama-gguf-split --merge")  # fmt: skip
    arch = architecture(reader)
    jobs = plan(reader, arch)
    config = build_config(reader, arch, tied=not any(job.name == "lm_head.weight" for job in jobs))
    if quantization := quantization_config(jobs):
        config["quantization"] = quantization
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        write_weights(tmp, jobs, arch, on_progress, cancel)
        if on_progress:
            on_progress(1.0, "tokenizer")
        write_tokenizer(source, tmp, reader)
        (tmp / "config.json").write_text(json.dumps(config, indent=2))
        if dest.exists():
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return summarize(source, dest, arch, jobs, time.perf_counter() - started)
