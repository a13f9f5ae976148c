"""Sentence vectors for the index, made by the engine's one worker thread (engine/embeddings/), in batches
queued behind whatever the worker already has: an answer asked for while a folder is indexing waits for one
batch at most, never for the whole folder."""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

from engine.embeddings.model import EncoderSlot
from engine.generation import Engine

BATCH = 32
"""Chunks per worker request."""


class WorkerEmbedder:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._slot = EncoderSlot()
        """Touched on the worker thread only."""

    def embed(self, encoder: str, texts: Sequence[str]) -> list[list[float]]:
        """One unit vector per text, from the encoder at that folder; call from any thread but the worker."""
        vectors: list[list[float]] = []
        for start in range(0, len(texts), BATCH):
            batch = list(texts[start : start + BATCH])
            vectors += self.engine.submit(lambda batch=batch: self.embed_here(encoder, batch)).result()
        return vectors

    def embed_here(self, encoder: str, texts: list[str]) -> list[list[float]]:
        """The same, on the worker thread itself (while it prepares a prompt)."""
        return self._slot.embed(Path(encoder), texts)[0]

    def release(self) -> Future[None]:
        """Free the encoder (on the worker)."""
        return self.engine.submit(self._slot.release)
