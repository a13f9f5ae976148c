"""Convert a Hugging Face model folder (or repo) to a quantized MLX model with mlx_lm's pieces.

The conversion runs as a child job (engine/jobs.py says why; engine/models/convert_child.py is the
child's side, which reports its own progress). The result is written to a hidden temporary folder
and renamed into Cabin's models folder only when complete.
"""

from __future__ import annotations

import re
import shutil
import threading
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.jobs import ChildJob, Report
from engine.models import local
from engine.models.convert_child import convert_child
from engine.models.folder import display_name, inspect_model_folder, read_config, weight_files
from engine.models.store import StoredModel, find_model, looks_like_repo_id, resolve_model

BITS = (8, 6, 4, 3, 2)
GROUP_SIZES = (32, 64, 128)


@dataclass(frozen=True)
class Conversion:
    model: StoredModel
    before: int  # bytes of the source weights
    after: int  # bytes of the converted weights


def expected_size(parameters: int, bits: int, group_size: int) -> int:
    """Quantized weights: `bits` per value plus a 16-bit scale and bias per group."""
    return int(parameters * (bits + 32 / group_size) / 8)


def check_choice(bits: int, group_size: int) -> None:
    if bits not in BITS:
        raise ModelError(f"cannot quantize to {bits} bits: choose one of {', '.join(map(str, BITS))}")
    if group_size not in GROUP_SIZES:
        raise ModelError(f"group size {group_size} is not supported: choose one of {', '.join(map(str, GROUP_SIZES))}")


def source_folder(source: str | Path) -> Path:
    """The local folder to convert from: a path, or a repo id already in (or pulled into) the HF cache."""
    if looks_like_repo_id(str(source)) and not Path(source).expanduser().exists():
        from engine.models.download import pull

        try:
            return resolve_model(source)
        except ModelError:
            return pull(str(source)).path
    return resolve_model(source)


def check_source(folder: Path) -> int:
    """Refuse what mlx_lm cannot convert; return the size of the source weights."""
    config = read_config(folder)
    if config.get("quantization") or config.get("quantization_config"):
        raise ModelError(f"{display_name(folder)} is already quantized: convert from the original (16/32-bit) model")
    return sum(f.stat().st_size for f in weight_files(folder))


def destination(folder: Path, bits: int, name: str | None) -> Path:
    base = name or re.sub(r"[-_](\d+bit|bf16|fp16|f16|fp32)$", "", display_name(folder).split("/")[-1], flags=re.I)
    dest = local.converted_dir() / f"{base}-{bits}bit"
    if dest.exists():
        raise ModelError(f"{dest} already exists: delete it first (cabin models rm {dest})")
    return dest


def convert(
    source: str | Path,
    bits: int = 4,
    group_size: int = 64,
    name: str | None = None,
    on_progress: Report | None = None,
    cancel: threading.Event | None = None,
) -> Conversion:
    """Quantize `source` to `bits` with mlx_lm into Cabin's models folder; returns sizes before and after."""
    check_choice(bits, group_size)
    folder = source_folder(source)
    before = check_source(folder)
    dest = destination(folder, bits, name)
    parameters = inspect_model_folder(folder).parameters
    tmp = dest.with_name(f".{dest.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.parent.mkdir(parents=True, exist_ok=True)
    label = display_name(folder)
    expected = expected_size(parameters, bits, group_size)
    job = ChildJob(convert_child, (str(folder), str(tmp), bits, group_size, expected),
                   name="conversion", staging=tmp, publish=lambda: tmp.rename(dest),
                   failure=f"could not convert {label}", cancelled=f"conversion of {label} cancelled")  # fmt: skip
    job.run(on_progress, cancel, error=ModelError)
    after = sum(f.stat().st_size for f in weight_files(dest))
    return Conversion(find_model(str(dest)), before, after)
