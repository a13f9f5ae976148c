"""Import a GGUF file into Cabin's models in a child process, for the app: progress, cancel, nothing left behind.

The import itself is engine/models/gguf_import.py. Here it runs as a child job (engine/jobs.py), like a
conversion or an export, writing inside a hidden staging folder beside the destination; the model is
renamed into place only when the import is complete, and the folder removed whatever happens, so a
cancelled or killed child leaves nothing in the list.
"""

from __future__ import annotations

import shutil
import threading
from dataclasses import dataclass, replace
from pathlib import Path

from engine.errors import ModelError
from engine.jobs import ChildJob, JobProgress, Report
from engine.models.elsewhere import MERGE_HINT
from engine.models.gguf_import import ImportSummary, default_import_dest, import_gguf
from engine.models.gguf_info import inspect_gguf


@dataclass(frozen=True)
class Imported:
    path: Path
    lines: tuple[str, ...]  # the import summary


def import_child(source: str, dest: str, report: Report) -> ImportSummary:
    """The child process: one import; its progress goes to the parent."""
    return import_gguf(Path(source), Path(dest),
                       on_progress=lambda fraction, what: report(JobProgress("import", fraction, what)))  # fmt: skip


def import_in_child(
    source: Path,
    name: str | None = None,
    on_progress: Report | None = None,
    cancel: threading.Event | None = None,
) -> Imported:
    """Import `source` into Cabin's models folder (as `name`, else the importer's default name)."""
    source = Path(source).expanduser()
    if inspect_gguf(source).shard:  # a file that is not a whole GGUF is refused before any process starts
        raise ModelError(f"{source.name} is one file of a split GGUF: Cabin imports single-file GGUFs ({MERGE_HINT})")
    dest = default_import_dest(source, name)
    if dest.exists():
        raise ModelError(f"{dest} already exists: delete it first (cabin models rm {dest})")

    # An Ollama blob's file name is a hash: messages name the model instead.
    label = name if name and source.suffix.lower() != ".gguf" else source.name
    staging = dest.with_name(f".{dest.name}.importing")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    job = ChildJob(import_child, (str(source), str(staging / dest.name)), name="import", staging=staging,
                   publish=lambda: (staging / dest.name).rename(dest),
                   failure=f"could not import {label}", cancelled=f"import of {label} cancelled")  # fmt: skip
    summary = job.run(on_progress, cancel, error=ModelError)
    lines = replace(summary, dest=dest).lines()
    lines[0] = lines[0].replace(source.name, label, 1)
    return Imported(dest, tuple(lines))
