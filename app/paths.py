"""Where Cabin keeps its own files (the platform's app-data folder, or CABIN_DATA_DIR when set) and where
its bundled resources are (resources/ beside the packages, also in the frozen app)."""

from __future__ import annotations

import os
from pathlib import Path

from platformdirs import user_data_dir

DATA_DIR_ENV = "CABIN_DATA_DIR"
RESOURCES_DIR = Path(__file__).resolve().parents[1] / "resources"


def data_dir() -> Path:
    """~/Library/Application Support/Cabin on macOS, ~/.local/share/Cabin on Linux; created if missing."""
    override = os.environ.get(DATA_DIR_ENV)
    path = Path(override).expanduser() if override else Path(user_data_dir("Cabin", appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def app_icon_path() -> Path:
    """The app icon as a PNG (packaging/make_icon.py draws it; Cabin.app carries the .icns made from it)."""
    return RESOURCES_DIR / "cabin.png"
