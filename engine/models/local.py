"""Cabin's own records about models: the folders the user added, the GGUF files they ran, where converted models
go, and when each model was last used. Kept as small JSON files in Cabin's data folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

from engine.paths import data_dir


def converted_dir() -> Path:
    """Where `cabin models convert` writes: every folder in it is listed as a model."""
    return data_dir() / "models"


def _read(name: str, default: object) -> object:
    file = data_dir() / name
    try:
        return json.loads(file.read_text())
    except (FileNotFoundError, json.JSONDecodeError, UnicodeDecodeError):
        return default


def _write(name: str, value: object) -> None:
    """Write through a temporary file so a crash never leaves half a record."""
    file = data_dir() / name
    file.parent.mkdir(parents=True, exist_ok=True)
    tmp = file.with_suffix(".tmp")
    tmp.write_text(json.dumps(value, indent=2))
    tmp.replace(file)


def added_folders() -> list[Path]:
    return [Path(p) for p in _read("model_folders.json", [])]


def add_folder(path: Path) -> None:
    folders = [str(p) for p in added_folders()]
    if str(path.resolve()) not in folders:
        _write("model_folders.json", folders + [str(path.resolve())])


def forget_folder(path: Path) -> None:
    _write("model_folders.json", [str(p) for p in added_folders() if p != path.resolve()])


def linked_files() -> list[Path]:
    """GGUF files the user ran as they are (on llama.cpp): listed as models, never copied or moved."""
    return [Path(p) for p in _read("model_files.json", [])]


def link_file(path: Path) -> None:
    """Remember `path` (absolute, as given: a symlink in the Hugging Face cache stays one)."""
    files = [str(p) for p in linked_files()]
    if str(path) not in files:
        _write("model_files.json", files + [str(path)])


def unlink_file(path: Path) -> None:
    _write("model_files.json", [str(p) for p in linked_files() if p != path])


def last_used() -> dict[str, float]:
    """Model key (repo id or folder path) -> Unix time Cabin last loaded it."""
    return _read("last_used.json", {})


def mark_used(key: str) -> None:
    _write("last_used.json", last_used() | {key: time.time()})
