"""Convert a Hugging Face model folder (or repo) to a quantized MLX model with mlx_lm's convert.

The conversion runs in a child process (engine/models/child.py says why). The child's "[INFO] ..." lines
become progress phases; the folder being written gives the bytes. The result is written to a hidden
temporary folder and renamed into Cabin's models folder only when complete.
"""

from __future__ import annotations

import re
import shutil
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.models import local
from engine.models.child import Send, run_child
from engine.models.folder import display_name, inspect_model_folder, read_config, weight_files
from engine.models.store import StoredModel, find_model, folder_size, looks_like_repo_id, resolve_model

BITS = (8, 6, 4, 3, 2)
GROUP_SIZES = (32, 64, 128)
STARTING = "Starting the converter"


@dataclass(frozen=True)
class ConvertProgress:
    phase: str  # mlx_lm's own words: "Loading", "Quantizing", ...
    written: int
    expected: int  # estimated size of the converted weights


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
    on_progress: Callable[[ConvertProgress], None] | None = None,
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
    try:
        run_converter(folder, tmp, bits, group_size, expected_size(parameters, bits, group_size), on_progress, cancel)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    after = sum(f.stat().st_size for f in weight_files(dest))
    return Conversion(find_model(str(dest)), before, after)


def run_converter(
    folder: Path,
    tmp: Path,
    bits: int,
    group_size: int,
    expected: int,
    on_progress: Callable[[ConvertProgress], None] | None,
    cancel: threading.Event | None,
) -> None:
    """mlx_lm's convert in a child process (engine/models/child.py); each phase it announces and the bytes
    written so far become progress."""
    phases = [STARTING]

    def report(arrived: list[tuple[str, str]]) -> None:
        new_phases = [text for kind, text in arrived if kind == "phase"]
        phases.extend(new_phases)
        written = folder_size(tmp) if tmp.exists() else 0
        for phase in new_phases or phases[-1:]:
            if on_progress:
                on_progress(ConvertProgress(phase, written, expected))

    name = display_name(folder)
    run_child(child_main, (str(folder), str(tmp), bits, group_size), report, cancel,
              failure=f"could not convert {name}", cancelled=f"conversion of {name} cancelled")  # fmt: skip


class PhaseWriter:
    """Stands in for the child's stdout: mlx_lm's "[INFO] Loading" lines become phases for the parent."""

    def __init__(self, send: Send) -> None:
        self._send = send

    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.startswith("[INFO]"):
                self._send("phase", line.removeprefix("[INFO]").strip())
        return len(text)

    def flush(self) -> None:
        pass


def child_main(folder: str, tmp: str, bits: int, group_size: int, send: Send) -> None:
    """The child process: one mlx_lm convert call."""
    from mlx_lm.convert import convert as mlx_convert

    sys.stdout = PhaseWriter(send)
    mlx_convert(folder, mlx_path=tmp, quantize=True, q_bits=bits, q_group_size=group_size)
