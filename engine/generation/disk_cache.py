"""Prompt caches that survive a restart: one file per conversation in a folder beside the history, the total kept
under a limit by deleting the least recently used files first (a file's modification time is its last use).

Reopening a long conversation after a restart then prefills only its new message instead of the whole history.
The files are mlx_lm's prompt-cache format (engine/generation/cache_file.py), so only the MLX backend keeps them;
llama.cpp answers from scratch after a restart. A limit of 0 turns the files off (and deletes them).

Reads, writes and deletions run on the engine's worker thread (loading a file is an MLX call, and no write can
race a deletion); `usage` only reads the folder, so any thread may call it.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from engine.generation import cache_file
from engine.generation.cache_file import SavedCache

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.generation.prompt_cache import ConversationCache

MB = 1024**2
SUFFIX = ".safetensors"


def touch(path: Path) -> None:
    """Mark a file used now, to the nanosecond (the file system's own clock may give two writes the same time)."""
    now = time.time_ns()
    os.utime(path, ns=(now, now))


class CacheFolder:
    def __init__(self, path: Path, limit: int) -> None:
        self.path = path
        self.limit = limit
        """Bytes the files may take together; 0: keep none."""
        for temp in path.glob(f".*{cache_file.TEMP_SUFFIX}"):
            temp.unlink(missing_ok=True)  # left by a crash mid-write

    def file(self, conversation_id: str) -> Path:
        """The conversation's file (its id hashed, so any id makes a safe file name)."""
        return self.path / (hashlib.sha256(conversation_id.encode()).hexdigest()[:32] + SUFFIX)

    def files(self) -> list[tuple[int, int, Path]]:
        """(last use, size, path) of every cache file, least recently used first."""
        found = []
        for path in self.path.glob(f"[!.]*{SUFFIX}"):
            try:
                stat = path.stat()
            except OSError:  # deleted meanwhile
                continue
            found.append((stat.st_mtime_ns, stat.st_size, path))
        return sorted(found)

    def usage(self) -> int:
        """Bytes the files take now."""
        return sum(size for _, size, _ in self.files())

    def read(self, conversation_id: str, key: str) -> SavedCache | None:
        """The conversation's saved cache for the model `key`; a file that is unreadable or made for another model
        is deleted. A file read counts as used (it moves to the back of the eviction queue)."""
        path = self.file(conversation_id)
        if self.limit <= 0 or not path.exists():
            return None
        saved = cache_file.read(path, key)
        if saved is None:
            path.unlink(missing_ok=True)
        else:
            touch(path)
        return saved

    def write(self, conversation_id: str, key: str, saved: SavedCache) -> None:
        if self.limit <= 0 or not saved.tokens:
            return
        self.path.mkdir(parents=True, exist_ok=True)
        path = self.file(conversation_id)
        cache_file.write(path, saved, key)
        touch(path)
        self.evict()

    def remove(self, conversation_id: str) -> None:
        self.file(conversation_id).unlink(missing_ok=True)

    def set_limit(self, limit: int) -> None:
        self.limit = limit
        self.evict()

    def evict(self) -> None:
        """Delete the least recently used files until the rest fit under the limit."""
        files = self.files()
        total = sum(size for _, size, _ in files)
        for _, size, path in files:
            if total <= self.limit:
                return
            path.unlink(missing_ok=True)
            total -= size

    def clear(self) -> None:
        for _, _, path in self.files():
            path.unlink(missing_ok=True)


@dataclass(frozen=True)
class ModelCacheFiles:
    """The folder's files as seen by one loaded model: only files made for it are read."""

    folder: CacheFolder
    key: str

    def restore(self, conversation_id: str, backend: Backend) -> ConversationCache | None:
        from engine.generation.prompt_cache import ConversationCache

        saved = self.folder.read(conversation_id, self.key)
        return None if saved is None else ConversationCache.restored(backend, saved)

    def save(self, conversation_id: str, cache: ConversationCache) -> None:
        """Write the conversation's file. A file is only a shortcut: when it cannot be written (a full disk), the
        conversation is answered as before, from its history."""
        try:
            self.folder.write(conversation_id, self.key, cache.saved())
        except Exception:  # noqa: BLE001 — e.g. OSError from a full disk, RuntimeError from MLX's writer
            self.folder.remove(conversation_id)
