"""Import a GGUF file into Cabin's models in a child process, for the app: progress, cancel, nothing left behind.

The import itself is engine/models/gguf_import.py. Here it runs through the same child-process runner as a
conversion (engine/models/child.py), writing inside a hidden staging folder beside the destination; the
folder is renamed into place only when the import is complete and removed whatever happens otherwise,
so a cancelled or killed child leaves nothing in the list.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from engine.errors import ModelError
from engine.models.child import Send, run_child
from engine.models.elsewhere import MERGE_HINT
from engine.models.gguf_import import ImportSummary, default_import_dest, import_gguf
from engine.models.gguf_info import inspect_gguf


@dataclass(frozen=True)
class ImportProgress:
    fraction: float
    phase: str


@dataclass(frozen=True)
class Imported:
    path: Path
    lines: tuple[str, ...]  # the import summary


def import_child(source: str, dest: str, send: Send) -> ImportSummary:
    """The child process: one import; its progress goes to the parent."""
    return import_gguf(Path(source), Path(dest), on_progress=lambda fraction, phase: send("progress", (fraction, phase)))


def import_in_child(
    source: Path,
    name: str | None = None,
    on_progress: Callable[[ImportProgress], None] | None = None,
    cancel: threading.Event | None = None,
) -> Imported:
    """Import `source` into Cabin's models folder (as `name`, else the importer's default name)."""
    source = Path(source).expanduser()
    if inspect_gguf(source).shard:  # a file that is not a whole GGUF is refused before any process starts
        raise ModelError(f"{source.name} is one file of a split GGUF: Cabin imports single-file GGUFs ({MERGE_HINT})")
    dest = default_import_dest(source, name)
    if dest.exists():
        raise ModelError(f"{dest} already exists: delete it first (cabin models rm {dest})")

    def report(arrived: list[tuple[str, tuple[float, str]]]) -> None:
        for _, (fraction, phase) in arrived:
            if on_progress:
                on_progress(ImportProgress(fraction, phase))

    # An Ollama blob's file name is a hash: messages name the model instead.
    label = name if name and source.suffix.lower() != ".gguf" else source.name
    staging = dest.with_name(f".{dest.name}.importing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        summary = run_child(import_child, (str(source), str(staging / dest.name)), report, cancel,
                           failure=f"could not import {label}", cancelled=f"import of {label} cancelled")  # fmt: skip
        (staging / dest.name).rename(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    lines = replace(summary, dest=dest).lines()
    lines[0] = lines[0].replace(source.name, label, 1)
    return Imported(dest, tuple(lines))
