"""One conversation's prompt cache as a file: mlx_lm's own prompt-cache format (safetensors), with what it is valid
for in its metadata: the model (its folder, a fingerprint of its weight files and how they are computed) and the
exact token ids its keys and values hold, with the checkpoints that map rendered text to those ids.

A file is written to a temporary name and renamed over the old one, so a crash leaves the old file or the new
one, never half of one. A file that cannot be read, or that was made for something else, reads as None. MLX
calls: worker thread only.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.compute_dtype import ComputePlan
    from engine.models.folder import ModelInfo

FORMAT = "cabin-prompt-cache-1"
TEMP_SUFFIX = ".tmp.safetensors"
"""mx.save_safetensors appends ".safetensors" to any other name, so temporary files end with it too."""


@dataclass(frozen=True)
class SavedCache:
    """What a conversation's cache holds: the KV cache, its token ids, and rendered text -> ids checkpoints."""

    kv: list[Any]
    tokens: list[int]
    checkpoints: dict[str, int]


def model_key(info: ModelInfo, compute_plan: ComputePlan | None, kv_bits: int | None, draft: str = "") -> str:
    """A fingerprint of the model a cache belongs to: changed weights (size or modification time), another
    compute dtype (keys and values are computed in it), another KV quantization or another draft model (its
    layers follow the model's in the cache: `draft` is its own key) give another key."""
    weights = sorted(p for p in Path(info.path).glob("*.safetensors"))
    files = [(p.name, p.stat().st_size, p.stat().st_mtime_ns) for p in weights]
    plan = None if compute_plan is None else compute_plan.upcast
    described = json.dumps([str(Path(info.path).resolve()), files, plan, kv_bits] + ([draft] if draft else []))
    return hashlib.sha256(described.encode()).hexdigest()


def write(path: Path, saved: SavedCache, key: str) -> None:
    """Write atomically: a temporary file renamed over `path`."""
    from mlx_lm.models.cache import save_prompt_cache

    metadata = {
        "format": FORMAT,
        "model": key,
        "tokens": json.dumps(saved.tokens),
        "checkpoints": json.dumps(saved.checkpoints),
    }
    temp = path.with_name(f".{path.stem}.{os.getpid()}{TEMP_SUFFIX}")
    try:
        save_prompt_cache(str(temp), [compact(layer) for layer in saved.kv], metadata)
        os.replace(temp, path)
    finally:
        temp.unlink(missing_ok=True)


def compact(layer: Any) -> Any:
    """A plain KVCache without the room it grows into (and any trimmed tokens): only its `offset` tokens are saved."""
    from mlx_lm.models.cache import KVCache

    if type(layer) is not KVCache or layer.keys is None or layer.keys.shape[2] == layer.offset:
        return layer
    n = layer.offset
    return KVCache.from_state((layer.keys[..., :n, :], layer.values[..., :n, :], n))


def read(path: Path, key: str) -> SavedCache | None:
    """The saved cache, or None when the file is unreadable (truncated, corrupt) or was made for another model."""
    from mlx_lm.models.cache import load_prompt_cache

    try:
        kv, metadata = load_prompt_cache(str(path), return_metadata=True)
        if metadata.get("format") != FORMAT or metadata.get("model") != key:
            return None
        saved = SavedCache(kv, json.loads(metadata["tokens"]), json.loads(metadata["checkpoints"]))
        return saved if holds_its_tokens(saved) else None
    except Exception:  # noqa: BLE001 — whatever is wrong with the file, the answer is to prefill instead
        return None


def holds_its_tokens(saved: SavedCache) -> bool:
    """Every layer holds as many tokens as the ids say, and its data is really there (read now, not mid-answer)."""
    import mlx.core as mx
    from mlx.utils import tree_flatten

    mx.eval([array for _, array in tree_flatten([layer.state for layer in saved.kv]) if isinstance(array, mx.array)])
    n = len(saved.tokens)
    return all(getattr(layer, "offset", n) == n for layer in saved.kv) and all(
        0 <= count <= n for count in saved.checkpoints.values()
    )
