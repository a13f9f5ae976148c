"""Which model the app has loaded, shared by every pane: load requests, and signals when that changes."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from enum import Enum
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.errors import CabinError
from engine.generation import Engine
from engine.models.folder import ModelInfo
from engine.models.gguf_model import gguf_model_name
from engine.settings.file import Settings


class ModelStatus(Enum):
    NONE = "none"
    LOADING = "loading"
    READY = "ready"
    FAILED = "failed"


def loading_name(spec: str | Path) -> str:
    """What "Loading …" calls a model: a GGUF file by its model name (an Ollama blob by its Ollama name, not its
    hash), a folder by its name, a repo id as it is."""
    path = Path(str(spec))
    return gguf_model_name(path) if path.is_file() else path.name or str(spec)


class ModelState(QObject):
    sig_changed = Signal()
    """The status, the model or the error changed; read them from this object."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        super().__init__()
        self._engine = engine
        self._settings = settings
        self.status = ModelStatus.NONE
        self.info: ModelInfo | None = None
        self.loading_name = ""
        self.error = ""
        self._task: asyncio.Task | None = None
        self._loading: Future[ModelInfo] | None = None

    def load(self, spec: str | Path, allow_oversize: bool = False) -> asyncio.Task:
        """Load a model (folder or cached repo id) on the engine's worker, on the running asyncio loop.

        A model that won't fit in memory is refused (status FAILED, with the reason) unless `allow_oversize`.
        """
        self._set(ModelStatus.LOADING, loading_name=loading_name(spec))
        # Queued on the engine now, so a question sent while it loads is answered by this model.
        context = self._settings.values.context_length  # the fit check plans for the context the user chose
        loading = self._loading = self._engine.load(spec, context=context, allow_oversize=allow_oversize)
        self._task = asyncio.ensure_future(self._finish_loading(spec, loading))
        return self._task

    def load_last_used(self) -> asyncio.Task | None:
        last = self._settings.get("last_model")
        return self.load(last) if last else None

    async def _finish_loading(self, spec: str | Path, loading: Future[ModelInfo]) -> None:
        try:
            info = await asyncio.wrap_future(loading)
        except CabinError as e:
            error = str(e)
        except Exception as e:  # noqa: BLE001 — any failure must leave the window usable, with a message
            error = f"could not load {spec}: {e}"
        else:
            error = ""
        if loading is not self._loading:
            return  # a newer load was asked for meanwhile; its result is the one to show
        if error:
            self._set(ModelStatus.FAILED, error=error)
            return
        self._settings.set("last_model", str(spec))
        self._set(ModelStatus.READY, info=info)

    def _set(self, status: ModelStatus, info: ModelInfo | None = None, loading_name: str = "", error: str = "") -> None:
        self.status, self.info, self.loading_name, self.error = status, info, loading_name, error
        self.sig_changed.emit()

    @property
    def name(self) -> str:
        return self.info.name if self.info else ""
