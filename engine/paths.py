"""Where Cabin keeps its own files: the platform's app-data folder, or CABIN_DATA_DIR when set."""

from __future__ import annotations

import os
from pathlib import Path

DATA_DIR_ENV = "CABIN_DATA_DIR"


def data_dir() -> Path:
    """~/Library/Application Support/Cabin on macOS, ~/.local/share/Cabin on Linux; created if missing."""
    from platformdirs import user_data_dir

    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override).expanduser() if override else Path(user_data_dir("Cabin", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path
