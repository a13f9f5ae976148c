"""What every pane shares: the one engine, the conversation store, the settings and the model state."""

from __future__ import annotations

import gc
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from app.model_state import ModelState
from app.paths import data_dir
from app.preferences.apply import apply_to_engine, cache_files_limit
from engine.conversations.store import ConversationStore, open_store
from engine.generation import Engine
from engine.generation.disk_cache import CacheFolder
from engine.settings.file import Settings

CACHE_FILES = "prompt-caches"
"""The folder (in the data folder, beside the history) of the conversations' prompt-cache files."""


@dataclass
class AppContext:
    engine: Engine
    store: ConversationStore
    settings: Settings
    models: ModelState
    data_dir: Path
    notices: list[str] = field(default_factory=list)
    """Problems found at start-up that the user should read (shown in the window's status bar)."""
    background: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "cabin-ui-helper"))
    """For small blocking reads (e.g. system memory via sysctl on macOS) kept off the UI thread."""

    @classmethod
    def create(cls, folder: Path | None = None) -> AppContext:
        folder = folder or data_dir()
        settings = Settings(folder / "settings.json")
        engine = Engine(cache_folder=CacheFolder(folder / CACHE_FILES, cache_files_limit(settings)))
        apply_to_engine(settings, engine)
        store, notice = open_store(folder / "conversations.sqlite3")
        notices = settings.warnings + ([notice] if notice else [])
        return cls(engine, store, settings, ModelState(engine, settings), folder, notices)

    def close(self) -> None:
        """Stop the engine (no MLX call left in flight at exit; queued work is cancelled) and the helpers."""
        self.engine.shutdown()
        self.background.shutdown(wait=True)
        self.store.close()
        gc.collect()
