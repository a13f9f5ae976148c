"""The libraries a conversation answers from, and the retrieval for each of its questions (the window's and
`cabin chat --library`'s)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from engine.generation import Engine
from engine.library.embedder import WorkerEmbedder
from engine.library.retrieval import TOP_K, Retrieval
from engine.library.store import LibraryStore


@dataclass
class Documents:
    index: Path
    names: list[str]
    embedder: WorkerEmbedder
    k: int = TOP_K

    @classmethod
    def named(cls, engine: Engine, names: Sequence[str], index: Path | None = None) -> Documents:
        """Documents from the libraries `names` (LibraryError, one line, for a name that is not a library)."""
        from engine.library.encoders import index_path

        index = index or index_path()
        store = LibraryStore(index)
        try:
            libraries = [store.named(name) for name in names]
        finally:
            store.close()
        return cls(index, [library.name for library in libraries], WorkerEmbedder(engine))

    def retrieval(self) -> Retrieval:
        """The `augment` for one question's answer."""
        return Retrieval(self.index, self.names, self.embedder, self.k)
