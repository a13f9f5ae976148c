"""Models other apps keep (engine/models/elsewhere.py), served by name on a server that may swap (`cabin serve`).

A request naming one (Ollama's "llama3.2:3b", LM Studio's "publisher/file", or the name Cabin's import would give
it) is answered on the request's turn in the queue. A GGUF runs as it is on llama.cpp when llama-cpp-python is
installed (no copy; loading it lists it among Cabin's models, engine/models/store.py's linked GGUF files); without
it, it is imported to MLX once, in a child process (engine/models/import_job.py: lossless, nothing left behind on
failure or cancel). An MLX folder is added as it is. The other apps' stores are only read, and only scanned when a
name is not Cabin's; the scan is kept for a few seconds so a burst of requests scans once.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

from engine.errors import ModelError
from engine.models.elsewhere import OLLAMA, FoundModel, Stores, find_all
from engine.models.gguf_import import default_import_dest
from engine.models.gguf_model import can_run_gguf, gguf_model_name
from engine.server.errors import ApiError

SCAN_SECONDS = 10.0
"""How long one scan of the other apps' stores answers lookups."""


def plain(name: str) -> str:
    """A name without Ollama's default tag, so "smol" and "smol:latest" are one name."""
    return name.removesuffix(":latest")


def runs_as_is(found: FoundModel) -> bool:
    """Whether Cabin runs the model where it is: an MLX folder, or a GGUF file when llama.cpp is installed."""
    return found.kind == "mlx" or can_run_gguf()


def import_path(found: FoundModel) -> Path:
    """Where the model is once in Cabin's store: the folder its import writes, or the MLX folder itself."""
    return found.path if found.kind == "mlx" else default_import_dest(found.path, found.import_name)


def cabin_path(found: FoundModel) -> Path:
    """Where Cabin runs the model from: the model itself (run as it is), else the folder its import writes."""
    return found.path if runs_as_is(found) else import_path(found)


def cabin_name(found: FoundModel) -> str:
    """The id Cabin serves it under: a GGUF run as it is by the name the engine gives it once loaded (an Ollama
    model's own name, else the file's), else its folder's name."""
    if found.kind == "gguf" and runs_as_is(found):
        return found.name if found.source == OLLAMA else gguf_model_name(found.path)  # the scan named it already
    return import_path(found).name


class Elsewhere:
    """Lookups in the other apps' stores, and bringing a model found there into Cabin's store."""

    def __init__(self, stores: Stores | None = None) -> None:
        self._stores = stores
        self._scanned: tuple[float, list[FoundModel]] | None = None

    def models(self) -> list[FoundModel]:
        """The models found elsewhere (a scan at most every SCAN_SECONDS; it reads headers only)."""
        now = time.monotonic()
        if self._scanned is None or now - self._scanned[0] > SCAN_SECONDS:
            self._scanned = (now, find_all(self._stores))
        return self._scanned[1]

    def find(self, requested: str) -> FoundModel:
        """The model `requested` names (its name in the other app, or the name Cabin would give it).

        None there: 404. Found but unusable (truncated, split, ...): 400 with the reason."""
        name = plain(requested)
        for found in self.models():
            if name in {plain(found.name), import_path(found).name, cabin_name(found)}:
                if found.problem:
                    raise ApiError.invalid(
                        f"The model '{requested}' ({found.source}, {found.path}) cannot be used: {found.problem}.",
                        "model", "model_unusable",
                    )
                return found
        raise ApiError.unknown_model(requested)

    async def bring_in(self, found: FoundModel) -> Path:
        """Make `found` runnable (once) and return where it runs from: a GGUF file as it is (llama.cpp), an MLX folder
        added to the store, or a GGUF imported to MLX; raises ApiError if it cannot be."""
        dest = cabin_path(found)
        try:
            if found.kind == "gguf" and runs_as_is(found):
                return dest
            if found.kind == "mlx":
                from engine.models.store import add_model_folder

                await asyncio.to_thread(add_model_folder, found.path)
            elif not dest.exists():
                await import_cancellably(found)
        except ModelError as e:
            raise ApiError(400, f"The model '{found.name}' could not be brought into Cabin: {e}",
                           "invalid_request_error", "model", "model_import_failed") from None  # fmt: skip
        return dest


async def import_cancellably(found: FoundModel) -> None:
    """Import a found GGUF off the event loop. If the request is cancelled (its client went away), the import is
    cancelled too, and this returns only once its child is gone and its staging folder removed."""
    from engine.models.import_job import import_in_child

    cancel = threading.Event()
    work = asyncio.ensure_future(asyncio.to_thread(import_in_child, found.path, found.import_name, None, cancel))
    try:
        await asyncio.shield(work)
    except asyncio.CancelledError:
        cancel.set()
        await asyncio.wait([work])
        work.exception()  # the job's CancelledByUser: expected, so not logged as never retrieved
        raise
