"""Which models the API serves by name: the one loaded, every usable model in the store, and any the server
loaded before (a folder given to `cabin serve` that the store does not list).

The engine holds one model at a time. On this hardware (a few cores, memory for one useful model) swapping on
demand is the design: a request naming another model waits for its turn in the request queue, then the model
it names replaces the loaded one (the least recently used, as it is the only one). Names are matched as
clients write them: the id the server lists, the store's key, the folder's path or name, with Ollama's
`:latest` suffix tolerated.

A server that may swap also serves, by name, the models other apps keep (engine/server/elsewhere_import.py):
the first request for one runs it as it is (a GGUF on llama.cpp) or brings it into the store on its turn; the name
it was asked by is remembered, so later requests find it without scanning the other apps' stores again.
"""

from __future__ import annotations

from pathlib import Path

from engine.errors import ModelError
from engine.generation import Engine
from engine.models.folder import ModelInfo
from engine.models.loading import inspect_model
from engine.server.elsewhere_import import Elsewhere, cabin_name, plain
from engine.server.errors import ApiError


def names_of(info: ModelInfo, key: str | None = None) -> set[str]:
    """Every name a client may use for a model."""
    names = {info.name, str(info.path), info.path.name, str(info.path.resolve())}
    return names | {key} if key else names


def stored_models() -> list[tuple[ModelInfo, str]]:
    """(info, store key) of every usable model in the store."""
    from engine.models.store import list_models

    try:
        return [(model.info, model.key) for model in list_models() if model.info is not None]
    except ModelError:
        return []


class ModelRegistry:
    """The models a server may answer with, by any of their names; the loaded one is one of them."""

    def __init__(self, engine: Engine, swap: bool = True) -> None:
        self.engine = engine
        self.swap = swap
        """False (the app's server): only the loaded model is served, so only it is listed."""
        self._known: dict[Path, ModelInfo] = {}
        """Models loaded while this server ran, by resolved folder: still servable once unloaded."""
        self.elsewhere = Elsewhere()
        self._aliases: dict[str, Path] = {}
        """Other apps' names of models brought into the store ("llama3.2:3b"), to their resolved folders."""

    def loaded(self) -> ModelInfo | None:
        info = self.engine.model_info
        if info is not None:
            self._known.setdefault(info.path.resolve(), info)
        return info

    def servable(self) -> list[ModelInfo]:
        """The loaded model first, then the others the server knows, then the store's, each once."""
        loaded = self.loaded()
        if not self.swap:
            return [loaded] if loaded else []
        found: dict[Path, ModelInfo] = {loaded.path.resolve(): loaded} if loaded else {}
        for info in [*self._known.values(), *(info for info, _ in stored_models())]:
            found.setdefault(info.path.resolve(), info)
        return list(found.values())

    def find(self, requested: str) -> ModelInfo:
        """The model `requested` names (the loaded one is checked first, without scanning the store)."""
        name = plain(requested)
        loaded = self.loaded()
        if loaded is not None and name in self._names(loaded):
            return loaded
        for info in self._known.values():
            if name in self._names(info):
                return info
        for info, key in stored_models():
            if name in names_of(info, key):
                return info
        raise ApiError.unknown_model(requested)

    def _names(self, info: ModelInfo) -> set[str]:
        folder = info.path.resolve()
        return names_of(info) | {alias for alias, path in self._aliases.items() if path == folder}

    def served_name(self, requested: str) -> str:
        """The id a request naming `requested` is answered as: a model Cabin has, else (on a server that may
        swap) one found elsewhere, by the name its import will give it. Unknown: 404; unusable: 400."""
        try:
            return self.find(requested).name
        except ApiError:
            if not self.swap:
                raise
            return cabin_name(self.elsewhere.find(requested))

    async def resolve(self, requested: str) -> ModelInfo:
        """The model `requested` names, brought into the store first if another app keeps it (call while
        holding the request queue's turn, so imports never overlap generations or each other)."""
        try:
            return self.find(requested)
        except ApiError:
            if not self.swap:
                raise
            found = self.elsewhere.find(requested)
            path = await self.elsewhere.bring_in(found)
            folder = path.resolve()
            info = self._known.get(folder) or inspect_model(path)
            self._known.setdefault(folder, info)
            self._aliases[plain(found.name)] = folder
            return info

    def encoders(self) -> list[tuple[str, str, Path]]:
        """(id, store key, folder) of each embedding model in the store (none on a server that may not swap)."""
        from engine.embeddings.model import is_embedding_model
        from engine.models.folder import display_name
        from engine.models.store import list_models

        if not self.swap:
            return []
        return [(display_name(model.path), model.key, model.path) for model in list_models()
                if model.info is None and is_embedding_model(model.path)]  # fmt: skip

    def find_encoder(self, requested: str) -> tuple[str, Path]:
        """(id, folder) of the embedding model `requested` names; a chat model or an unknown name is refused."""
        name = requested.removesuffix(":latest")
        for model, key, path in self.encoders():
            if name in {model, key, str(path), path.name, str(path.resolve())}:
                return model, path
        chat_model = self.find(requested)
        raise ApiError.invalid(
            f"{chat_model.name} is a chat model, not an embedding model; add an embedding model such as "
            "sentence-transformers/all-MiniLM-L6-v2 to Cabin and name it instead.", "model", "not_an_embedding_model"
        )

    def is_loaded(self, info: ModelInfo) -> bool:
        loaded = self.loaded()
        return loaded is not None and loaded.path.resolve() == info.path.resolve()
