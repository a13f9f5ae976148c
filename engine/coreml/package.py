"""The export folder: package metadata, tokenizer and config files, golden vectors and the manifest."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

import numpy as np

from engine import __version__
from engine.coreml.convert import ATTENTION_MASK, INPUT_IDS, KEY_CACHE, LOGITS, SLIDING_MASK, VALUE_CACHE

SLIDING_WINDOW_KEY = "co.huggingface.exporters.sliding_window"
"""Where swift-transformers reads the window it builds `slidingAttentionMask` with."""
from engine.coreml.options import ExportOptions
from engine.coreml.source import SourceModel

TOKENIZER_EXTRAS = ("special_tokens_map.json", "generation_config.json")
GOLDEN_FILE = "golden.npz"
MANIFEST_FILE = "manifest.json"


def token_ids(value: Any) -> list[int]:
    if value is None:
        return []
    return [int(v) for v in value] if isinstance(value, (list, tuple)) else [int(value)]


def special_tokens(source: SourceModel, tokenizer: Any) -> tuple[list[int], list[int]]:
    """(EOS ids, BOS ids): the config's, or the tokenizer's when the config names none."""
    eos = token_ids(source.config.get("eos_token_id")) or token_ids(getattr(tokenizer, "eos_token_id", None))
    bos = token_ids(source.config.get("bos_token_id")) or token_ids(getattr(tokenizer, "bos_token_id", None))
    return eos, bos


def set_metadata(
    mlmodel: Any, source: SourceModel, options: ExportOptions, eos: list[int], bos: list[int], window: int | None
) -> None:
    """Describe the package as Xcode and `MLModel.modelDescription` show it."""
    name, arch = source.info.name, source.info.model_type
    mlmodel.author = options.author or f"Exported with Cabin {__version__} from {name}"
    mlmodel.license = options.license or str(source.config.get("license", "See the source model's license"))
    mlmodel.short_description = options.description or (
        f"{name} ({arch}) causal language model, {options.mode} {options.bits}-bit, "
        f"stateful KV cache of {options.context} tokens"
    )
    mlmodel.version = __version__
    mlmodel.input_description[INPUT_IDS] = "Token ids to append, shape (1, n)"
    mlmodel.input_description[ATTENTION_MASK] = "Additive mask (1, 1, n, past + n): 0 attends, -inf is masked"
    if window is not None:
        mlmodel.input_description[SLIDING_MASK] = f"The same, also masking keys {window} or more positions back"
        mlmodel.user_defined_metadata[SLIDING_WINDOW_KEY] = str(window)
    mlmodel.output_description[LOGITS] = "Next-token logits for each input position, shape (1, n, vocab)"
    recipe = options.recipe
    mlmodel.user_defined_metadata.update(
        {
            "cabin.source_model": name,
            "cabin.architecture": arch,
            "cabin.context_length": str(options.context),
            "cabin.compression": options.mode,
            "cabin.bits": str(options.bits),
            "cabin.group_size": str(recipe["group_size"] or ""),
            "cabin.embeddings": options.embeddings,
            "cabin.eos_token_ids": json.dumps(eos),
            "cabin.bos_token_ids": json.dumps(bos),
            "cabin.source_bits": str(source.info.bits or ""),
        }
    )


def write_tokenizer(source: SourceModel, dest: Path) -> Any:
    """tokenizer.json and tokenizer_config.json (with the chat template inside, where swift-transformers
    reads it); returns the loaded tokenizer."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(source.info.path))
    if (source.info.path / "tokenizer.json").is_file():
        shutil.copyfile(source.info.path / "tokenizer.json", dest / "tokenizer.json")
    else:
        tokenizer.backend_tokenizer.save(str(dest / "tokenizer.json"))
    config_file = source.info.path / "tokenizer_config.json"
    config = json.loads(config_file.read_text()) if config_file.is_file() else {}
    if not config.get("chat_template") and tokenizer.chat_template:
        config["chat_template"] = tokenizer.chat_template
    config.setdefault("tokenizer_class", type(tokenizer).__name__.removesuffix("Fast"))
    (dest / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
    for extra in TOKENIZER_EXTRAS:
        if (source.info.path / extra).is_file():
            shutil.copyfile(source.info.path / extra, dest / extra)
    return tokenizer


def write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def write_golden(dest: Path, vectors: dict[str, np.ndarray]) -> None:
    np.savez_compressed(dest / GOLDEN_FILE, **vectors)


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def file_list(folder: Path) -> list[dict]:
    """Every file under `folder` (those inside the .mlpackage too), with size and SHA-256."""
    return [
        {"path": str(path.relative_to(folder)), "bytes": path.stat().st_size, "sha256": sha256(path)}
        for path in sorted(folder.rglob("*"))
        if path.is_file() and path.name != MANIFEST_FILE
    ]


def interface(cache_shape: tuple[int, ...], context: int, vocab: int, window: int | None = None) -> dict:
    mask = {"dtype": "float16", "shape": [1, 1, f"1...{context}", f"1...{context}"]}
    masks = {ATTENTION_MASK: mask} | ({SLIDING_MASK: {**mask, "sliding_window": window}} if window is not None else {})
    return {
        "inputs": {INPUT_IDS: {"dtype": "int32", "shape": [1, f"1...{context}"]}, **masks},
        "states": {name: {"dtype": "float16", "shape": list(cache_shape)} for name in (KEY_CACHE, VALUE_CACHE)},
        "outputs": {LOGITS: {"dtype": "float16", "shape": [1, "n", vocab]}},
    }


def tool_versions() -> dict:
    return {name: version(name) for name in ("coremltools", "torch", "transformers", "mlx-lm", "numpy")}


def write_manifest(dest: Path, body: dict) -> None:
    manifest = {
        "format": "cabin-coreml-export/1",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cabin_version": __version__,
        "tools": tool_versions(),
        **body,
        "files": file_list(dest),
    }
    write_json(dest / MANIFEST_FILE, manifest)


def verify_files(folder: Path) -> list[str]:
    """Files whose size or SHA-256 no longer match the manifest (empty when the folder is intact)."""
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    bad = []
    for entry in manifest["files"]:
        path = folder / entry["path"]
        if not path.is_file() or path.stat().st_size != entry["bytes"] or sha256(path) != entry["sha256"]:
            bad.append(entry["path"])
    return bad
