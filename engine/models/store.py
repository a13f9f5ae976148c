"""Where models live: plain local folders and the standard Hugging Face cache (shared with mlx_lm)."""

from __future__ import annotations

from pathlib import Path

from engine.errors import ModelError


def looks_like_repo_id(spec: str) -> bool:
    parts = spec.split("/")
    return len(parts) == 2 and all(parts) and not spec.startswith((".", "~"))


def cached_snapshot(repo_id: str) -> Path:
    """The local snapshot of `repo_id` in the HF cache. Never touches the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True))
    except LocalEntryNotFoundError:
        raise ModelError(
            f"{repo_id} is not in the local model cache; download it first (cabin models pull {repo_id})"
        ) from None


def resolve_model(spec: str | Path) -> Path:
    """A model folder from a local path or a Hugging Face repo id already in the cache."""
    path = Path(spec).expanduser()
    if path.exists():
        return path
    if looks_like_repo_id(str(spec)):
        return cached_snapshot(str(spec))
    raise ModelError(f"no model at {spec}: not a folder, nor a repo id like mlx-community/Qwen2.5-0.5B-Instruct-4bit")
