"""`cabin bench --compare`: one GGUF on llama.cpp and its MLX import on MLX, in one run and one table.

The MLX side is the import Cabin's importer made of the file when Cabin's models folder has it; otherwise the
file is imported into a temporary folder (in a child process, as the app imports) and that folder removed
afterwards. Cabin's imports do not record the file they came from, so an import is recognised by where the
importer puts it (the folder named after the file) and by its architecture and parameter count; for the same
reason an MLX folder cannot lead back to its GGUF: the user passes the GGUF.
"""

from __future__ import annotations

import shutil
import tempfile
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from engine.bench import BenchPlan, BenchResult, bench_backend, bench_model, start_bench
from engine.errors import ModelError

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.models.folder import ModelInfo


@dataclass(frozen=True)
class MlxSide:
    info: ModelInfo
    note: str
    """Where it came from, one line for the user."""


def gguf_to_compare(spec: str | Path) -> ModelInfo:
    """The GGUF file `spec` names; one line (ModelError) for an MLX model or anything else."""
    from engine.models.gguf_model import is_gguf_file
    from engine.models.loading import inspect_model

    info = inspect_model(spec)
    if not is_gguf_file(info.path):
        raise ModelError(f"{info.name} is an MLX model, and Cabin does not record which GGUF an import came from: "
                         "pass the GGUF file instead (cabin bench --model FILE.gguf --compare)")  # fmt: skip
    return info


def stored_import(gguf: ModelInfo) -> ModelInfo | None:
    """The import of `gguf` in Cabin's models folder: where the importer puts it, same architecture and size."""
    from engine.models.folder import inspect_model_folder
    from engine.models.gguf_import import default_import_dest

    try:
        info = inspect_model_folder(default_import_dest(gguf.path))
    except ModelError:
        return None
    return info if (info.model_type, info.parameters) == (gguf.model_type, gguf.parameters) else None


@contextmanager
def mlx_side(gguf: ModelInfo, cancel: threading.Event | None = None) -> Iterator[MlxSide]:
    """The MLX import of `gguf` for as long as the comparison needs it (a temporary one is removed afterwards)."""
    found = stored_import(gguf)
    if found is not None:
        yield MlxSide(found, f"MLX runs the import in Cabin's models: {found.path}")
        return
    from engine.jobs import ChildJob
    from engine.models.folder import inspect_model_folder
    from engine.models.gguf_import import default_import_dest
    from engine.models.import_job import import_child

    folder = Path(tempfile.mkdtemp(prefix="cabin-bench-"))
    dest = folder / default_import_dest(gguf.path).name
    try:
        job = ChildJob(import_child, (str(gguf.path), str(dest)), name="import", failure=f"could not import {gguf.path.name}",
                       cancelled="benchmark cancelled")  # fmt: skip
        job.run(cancel=cancel, error=ModelError)
        yield MlxSide(inspect_model_folder(dest), f"MLX runs an import of {gguf.path.name} made for this comparison "
                                                  "(Cabin's models hold none), deleted afterwards.")  # fmt: skip
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def compare_one_at_a_time(engine: Any, models: list[ModelInfo], plan: BenchPlan, allow_oversize: bool = False,
                          ) -> list[BenchResult]:  # fmt: skip
    """Each model loaded in `engine`, benchmarked and unloaded before the next: one model in memory at a time."""
    results = []
    for info in models:
        engine.load(info.path, allow_oversize=allow_oversize).result()
        results.append(start_bench(engine, plan).result())
        engine.unload().result()
    return results


def compare_beside(engine: Any, other: ModelInfo, plan: BenchPlan, stop: threading.Event | None = None,
                   ) -> Future[list[BenchResult]]:  # fmt: skip
    """One job on the worker: the loaded model, then `other` loaded beside it (fit-checked), benchmarked and freed.
    The loaded model stays loaded (the app's conversations keep their caches); answers asked for meanwhile wait."""

    def run(backend: Backend | None) -> list[BenchResult]:
        if backend is None:
            raise ModelError("no model is loaded")
        first = bench_backend(backend, engine.model_info, plan, stop)
        return [first, bench_model(other, plan, stop, engine.upcast_on_cpu)]

    return engine.run_with_backend(run)

