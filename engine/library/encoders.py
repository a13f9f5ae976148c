"""Which embedding model a new library is built with: one named, else the first one in the model store.
Also where the index file lives (beside the conversation history, in Cabin's data folder)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ModelError

INDEX_FILE = "library.sqlite3"
SUGGESTED = "sentence-transformers/all-MiniLM-L6-v2"
"""The catalogue's sentence encoder (resources/catalogue.json, use "embedding")."""


def index_path(folder: Path | None = None) -> Path:
    """The document index in `folder` (by default Cabin's data folder, where conversations.sqlite3 is)."""
    from engine.paths import data_dir

    return (folder or data_dir()) / INDEX_FILE


def available_encoders() -> list[Path]:
    """The embedding models in the store (BERT-style sentence encoders, engine/embeddings/)."""
    from engine.embeddings.model import is_embedding_model
    from engine.models.store import list_models

    return [model.path for model in list_models() if model.info is None and is_embedding_model(model.path)]


def choose_encoder(spec: str | None = None) -> Path:
    """The folder of the embedding model `spec` names (a folder or a repo id in the cache), else the first there is."""
    from engine.embeddings.model import is_embedding_model
    from engine.models.store import resolve_model

    if spec is not None:
        path = resolve_model(spec).resolve()
        if not is_embedding_model(path):
            raise ModelError(f"{spec} is not an embedding model (a BERT-style sentence encoder such as {SUGGESTED})")
        return path
    found = available_encoders()
    if not found:
        raise ModelError(f"no embedding model yet: download one with `cabin models pull {SUGGESTED}` "
                         "(or name a folder with --embedding-model)")  # fmt: skip
    return found[0].resolve()
