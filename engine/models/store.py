"""Where models live: the standard Hugging Face cache (shared with mlx_lm), folders the user added, models Cabin
converted and GGUF files the user ran as they are (linked where they are, on llama.cpp). Listing and deleting never
touch the network."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from engine.errors import ModelError
from engine.models import local
from engine.models.folder import ModelInfo, display_name, inspect_model_folder


def mlx_file_patterns() -> list[str]:
    """The files an MLX model needs: mlx_lm's own list, so its downloads and Cabin's look the same."""
    from mlx_lm.utils import DEFAULT_ALLOW_PATTERNS

    return list(DEFAULT_ALLOW_PATTERNS)


@dataclass(frozen=True)
class StoredModel:
    """One model on this machine. `info` is set only when the model is complete and loadable."""

    key: str  # what `cabin chat --model` and `cabin models rm` accept: a repo id, a folder or GGUF file path
    source: str  # "hub", "folder", "converted" or "gguf" (a GGUF file run as it is)
    path: Path
    size_bytes: int
    last_used: float | None
    info: ModelInfo | None
    problem: str | None = None
    label: str | None = None
    """What a linked GGUF file is called (engine/models/gguf_model.gguf_model_name), even when it cannot run."""

    @property
    def usable(self) -> bool:
        return self.info is not None

    @property
    def status(self) -> str:
        return "ready" if self.usable else self.problem or "unusable"


def looks_like_repo_id(spec: str) -> bool:
    parts = spec.split("/")
    return len(parts) == 2 and all(parts) and not spec.startswith((".", "~"))


def cached_snapshot(repo_id: str) -> Path:
    """The complete local snapshot of `repo_id` in the HF cache. Never touches the network."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import IncompleteSnapshotError, LocalEntryNotFoundError

    try:
        return Path(snapshot_download(repo_id, local_files_only=True, allow_patterns=mlx_file_patterns()))
    except IncompleteSnapshotError:
        raise ModelError(f"{repo_id} is only partly downloaded; finish it with: cabin models pull {repo_id}") from None
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


def model_key(path: Path) -> str:
    """The key a loaded folder is known by: its repo id inside the HF cache, else its path."""
    resolved = path.resolve()
    return display_name(resolved) if any(p.startswith("models--") for p in resolved.parts) else str(resolved)


def hf_cache_dir() -> Path:
    from huggingface_hub import constants

    return Path(constants.HF_HUB_CACHE)


def folder_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def usable_or_problem(path: Path) -> tuple[ModelInfo | None, str | None]:
    """A chat model's info, or why the folder can't be chatted with (an embedding model says what it is for)."""
    from engine.embeddings.model import is_embedding_model

    if is_embedding_model(path):
        return None, ("embedding model: indexes documents (cabin library, Documents in the chat) and serves "
                      "/v1/embeddings; not for chat")
    try:
        return inspect_model_folder(path), None
    except ModelError as e:
        return None, str(e)


def hub_models(last_used: dict[str, float]) -> list[StoredModel]:
    """Model repos in the HF cache; partial downloads are listed as such, never as usable."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        repos = scan_cache_dir(hf_cache_dir()).repos
    except CacheNotFound:
        return []
    models = []
    for repo in sorted(repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        snapshot = max(repo.revisions, key=lambda r: r.last_modified).snapshot_path
        status = hub_status(repo.repo_id, repo.repo_path, snapshot)
        if status is not None:
            used = last_used.get(repo.repo_id, repo.last_accessed if status[0] else None)
            models.append(StoredModel(repo.repo_id, "hub", snapshot, repo.size_on_disk, used, *status))
    return models


def hub_status(repo_id: str, repo_path: Path, snapshot: Path) -> tuple[ModelInfo | None, str | None] | None:
    """(info, problem) of a cached repo, or None when it holds no model at all (another library's files)."""
    if any(repo_path.glob("blobs/*.incomplete")):
        return None, "partial download"
    try:
        info, problem = usable_or_problem(cached_snapshot(repo_id))
    except ModelError as e:
        if "partly downloaded" in str(e):
            return None, "partial download"
        info, problem = None, str(e)
    return (info, problem) if info or (snapshot / "config.json").exists() else None


def folder_models(last_used: dict[str, float]) -> list[StoredModel]:
    converted = sorted(p for p in local.converted_dir().glob("*") if p.is_dir() and not p.name.startswith("."))
    models = []
    for source, paths in (("converted", converted), ("folder", local.added_folders())):
        for path in paths:
            info, problem = usable_or_problem(path) if path.is_dir() else (None, "folder is gone")
            size = folder_size(path) if path.is_dir() else 0
            models.append(StoredModel(str(path), source, path, size, last_used.get(str(path)), info, problem))
    return models


def gguf_key(path: Path) -> str:
    """A GGUF file's key: its absolute path, symlinks kept (an HF-cache snapshot's file links to a hash-named blob)."""
    return str(path.expanduser().absolute())


def gguf_status(path: Path) -> tuple[ModelInfo | None, str | None]:
    """A linked GGUF file's info, or why it cannot run as it is (gone, truncated, llama-cpp-python missing)."""
    from engine.models.gguf_model import LLAMA_CPP_MISSING, can_run_gguf, inspect_gguf_model

    if not path.is_file():
        return None, "file is gone"
    if not can_run_gguf():
        return None, LLAMA_CPP_MISSING
    try:
        return inspect_gguf_model(path), None
    except ModelError as e:
        return None, str(e)


def gguf_models(last_used: dict[str, float]) -> list[StoredModel]:
    from engine.models.gguf_model import gguf_model_name

    models = []
    for path in local.linked_files():
        info, problem = gguf_status(path)
        size = path.stat().st_size if path.is_file() else 0
        key = gguf_key(path)
        models.append(StoredModel(key, "gguf", path, size, last_used.get(key), info, problem, gguf_model_name(path)))
    return models


def remember_gguf(path: Path) -> None:
    """A GGUF file that ran as it is: listed from now on (linked where it is, never copied), used just now."""
    local.link_file(Path(gguf_key(path)))
    local.mark_used(gguf_key(path))


def list_models() -> list[StoredModel]:
    """Every model on this machine: HF cache repos, converted models, folders the user added, then GGUF files run as
    they are."""
    used = local.last_used()
    return hub_models(used) + folder_models(used) + gguf_models(used)


def find_model(key: str) -> StoredModel:
    """The model `key` names: its key or path, else (a GGUF file run as it is) its name, e.g. an Ollama model's."""
    models = list_models()
    for model in models:
        if model.key in (key, gguf_key(Path(key))) or (
            not looks_like_repo_id(key) and model.path == Path(key).expanduser().resolve()
        ):
            return model
    for model in models:
        if model.label == key:
            return model
    raise ModelError(f"{key} is not among your models (see: cabin models list)")


def add_model_folder(path: Path) -> StoredModel:
    """Remember a folder the user chose; it must hold a loadable model (a chat model, or an embedding model the
    local API serves, engine/embeddings/)."""
    from engine.embeddings.model import is_embedding_model

    folder = path.expanduser()
    if not is_embedding_model(folder):
        folder = inspect_model_folder(folder).path
    local.add_folder(folder)
    return find_model(str(folder.resolve()))


def delete_model(key: str) -> int:
    """Delete a model and return the bytes freed. A folder the user added or a GGUF file they ran is only forgotten
    (0 bytes): it is theirs, or another app's."""
    model = find_model(key)
    if model.source == "folder":
        local.forget_folder(model.path)
        return 0
    if model.source == "gguf":
        local.unlink_file(model.path)
        return 0
    if model.source == "converted":
        shutil.rmtree(model.path)
        return model.size_bytes
    return delete_hub_repo(model.key)


def delete_hub_repo(repo_id: str) -> int:
    from huggingface_hub import scan_cache_dir

    cache = scan_cache_dir(hf_cache_dir())
    repo = next(r for r in cache.repos if r.repo_id == repo_id and r.repo_type == "model")
    strategy = cache.delete_revisions(*(r.commit_hash for r in repo.revisions))
    strategy.execute()
    shutil.rmtree(repo.repo_path, ignore_errors=True)  # blobs of a partial download are not in any revision
    return max(strategy.expected_freed_size, repo.size_on_disk)
