"""Models other apps already keep on this machine: Ollama's store, LM Studio's models folder, llama.cpp's cache
and GGUF files in the Hugging Face cache.

Only headers are read (engine/models/gguf_info.py), files are opened read-only, and nothing is written, so
scanning never changes those stores. A file that cannot be read is listed with the reason, never raised.
"""

from __future__ import annotations

import json
import os
import re
import shlex
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from pathlib import Path

from engine.errors import ModelError
from engine.models.fit import Fit, KVShape, assess
from engine.models.folder import ModelInfo, inspect_model_folder
from engine.models.gguf_info import GgufInfo, inspect_gguf

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_DEFAULT_REGISTRY = "registry.ollama.ai"
SHARD_SUFFIX = re.compile(r"-\d{5}-of-\d{5}(?=\.gguf$|$)", re.I)  # llama.cpp's "-00001-of-00003.gguf"

SCAN_HOME_ENV = "CABIN_SCAN_HOME"
MERGE_HINT = "join them with llama.cpp's llama-gguf-split --merge"

OLLAMA, LM_STUDIO, LLAMA_CPP, HF_CACHE = "Ollama", "LM Studio", "llama.cpp", "HF cache"


@dataclass(frozen=True)
class Stores:
    """Where each app keeps its models; from the environment by default, any folders in tests."""

    ollama: Path
    lm_studio: tuple[Path, ...]
    llama_cpp: tuple[Path, ...]
    hf_cache: Path | None

    @classmethod
    def from_env(cls, home: Path | None = None, env: Mapping[str, str] | None = None) -> Stores:
        """$OLLAMA_MODELS or ~/.ollama/models; ~/.lmstudio/models and the older ~/.cache/lm-studio/models;
        $LLAMA_CACHE or llama.cpp's cache folder; the Hugging Face cache Cabin uses. `~` is $CABIN_SCAN_HOME
        when set (the test suite points it at an empty folder, never at the user's own stores)."""
        from engine.models.store import hf_cache_dir

        env = os.environ if env is None else env
        home = home or Path(env.get(SCAN_HOME_ENV) or Path.home())
        llama_cpp = (Path(env["LLAMA_CACHE"]),) if env.get("LLAMA_CACHE") else (
            home / ".cache" / "llama.cpp", home / "Library" / "Caches" / "llama.cpp")  # fmt: skip
        return cls(
            ollama=Path(env["OLLAMA_MODELS"]) if env.get("OLLAMA_MODELS") else home / ".ollama" / "models",
            lm_studio=(home / ".lmstudio" / "models", home / ".cache" / "lm-studio" / "models"),
            llama_cpp=llama_cpp,
            hf_cache=hf_cache_dir(),
        )


@dataclass(frozen=True)
class FoundModel:
    """A model another app keeps. `problem` says why it cannot be imported (truncated, not GGUF, ...)."""

    name: str  # "llama3.2:3b" for Ollama, "publisher/file" for LM Studio, "repo/file" for the HF cache
    source: str  # OLLAMA, LM_STUDIO, LLAMA_CPP or HF_CACHE
    path: Path
    kind: str  # "gguf" or "mlx"
    size_bytes: int
    architecture: str = "-"
    quant: str = "-"
    parameters: int = 0
    weight_bytes: int = 0
    kv: KVShape = KVShape(0, 0, 0)
    files: int = 1  # a split GGUF counts its shards
    problem: str | None = None
    in_cabin: bool = False  # already imported (under the name Import would give it) or added

    @property
    def importable(self) -> bool:
        return self.usable and not self.in_cabin

    @property
    def usable(self) -> bool:
        return self.problem is None

    @property
    def import_name(self) -> str | None:
        """The name to import under: Ollama's blobs are named by hash, so its model name ("llama3.2-3b");
        other files already carry a readable name."""
        return re.sub(r"[/:]", "-", self.name) if self.source == OLLAMA else None

    @property
    def import_command(self) -> str:
        if self.kind == "mlx":
            return f"cabin models add {shlex.quote(str(self.path))}"
        name = f" --name {shlex.quote(self.import_name)}" if self.import_name else ""
        return f"cabin models import {shlex.quote(str(self.path))}{name}"

    def fit(self, context: int, budget: int) -> Fit | None:
        return assess(self.weight_bytes, self.kv, context, budget) if self.usable else None


@lru_cache(maxsize=512)
def _read_header(path: Path, size: int, mtime_ns: int) -> GgufInfo | str:
    """Header of a file as it is now (size and mtime key the cache, so a changed file is read again)."""
    try:
        return inspect_gguf(path)
    except ModelError as e:
        return str(e).removeprefix(f"{path.name}: ")


def read_header(path: Path) -> GgufInfo | str:
    """The file's GgufInfo, or why it cannot be read."""
    try:
        stat = path.stat()
    except OSError as e:
        return f"cannot read it: {e.strerror or e}"
    return _read_header(path, stat.st_size, stat.st_mtime_ns)


def gguf_entry(name: str, source: str, path: Path) -> FoundModel | None:
    """The entry for one GGUF file; None for what is not a chat model (a vision projector, a later shard)."""
    if "mmproj" in path.name.lower():
        return None
    info = read_header(path)
    if isinstance(info, str):
        return FoundModel(name, source, path, "gguf", file_size(path), problem=info)
    if info.is_projector or (info.shard and info.shard[0] > 1):
        return None
    found = FoundModel(name, source, path, "gguf", info.file_size, info.architecture, info.quant, info.parameters,
                       info.tensor_bytes, info.kv)  # fmt: skip
    return with_shards(found, info) if info.shard else with_projector(found, info)


def with_projector(found: FoundModel, info: GgufInfo) -> FoundModel:
    """A model with its vision projector beside it (engine/models/gguf_projector.py): "<arch> + vision", the
    projector's weights counted in its fit."""
    from engine.models.gguf_projector import usable_projector

    projector = usable_projector(info)
    if projector is None:
        return found
    return replace(found, architecture=f"{info.architecture} + vision",
                   weight_bytes=found.weight_bytes + projector.tensor_bytes)  # fmt: skip


def with_shards(first: FoundModel, info: GgufInfo) -> FoundModel:
    """A split GGUF as one entry, sized over all its shards (the missing shard named); not importable as it is."""
    count = info.shard[1]
    first = replace(first, name=SHARD_SUFFIX.sub("", first.name))
    if not SHARD_SUFFIX.search(first.path.name):
        return replace(first, problem=f"split into {count} files whose names do not follow -0000N-of-0000M")
    infos = []
    for index in range(1, count + 1):
        shard = first.path.with_name(SHARD_SUFFIX.sub(f"-{index:05d}-of-{count:05d}", first.path.name))
        read = read_header(shard)
        if isinstance(read, str):
            return replace(first, problem=f"shard {index} of {count}: {read}")
        infos.append(read)
    problem = f"split into {count} files: Cabin imports single-file GGUFs ({MERGE_HINT})"
    return replace(first, size_bytes=sum(i.file_size for i in infos), parameters=sum(i.parameters for i in infos),
                   weight_bytes=sum(i.tensor_bytes for i in infos), files=count, problem=problem)  # fmt: skip


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def mlx_entry(name: str, source: str, folder: Path) -> FoundModel:
    try:
        info: ModelInfo = inspect_model_folder(folder)
    except ModelError as e:
        return FoundModel(name, source, folder, "mlx", 0, problem=str(e))
    quant = f"{info.bits}-bit" if info.bits else "16/32-bit"
    return FoundModel(name, source, folder, "mlx", info.weight_bytes, info.model_type, quant, info.parameters,
                      info.weight_bytes, info.kv)  # fmt: skip


# -- Ollama ------------------------------------------------------------------------------------------
def ollama_name(manifest: Path, manifests: Path) -> str:
    """Ollama's own spelling: `model:tag`, with the namespace and registry only when not the defaults."""
    registry, *namespace, model, tag = manifest.relative_to(manifests).parts
    prefix = "/".join(namespace) if namespace != ["library"] else ""
    if registry != OLLAMA_DEFAULT_REGISTRY:
        prefix = "/".join(p for p in (registry, prefix) if p)
    return f"{prefix + '/' if prefix else ''}{model}:{tag}"


def model_blob(manifest: Path, blobs: Path) -> Path | str:
    """The GGUF blob a manifest names, or why it names none."""
    return layer_blob(manifest, blobs, OLLAMA_MODEL_LAYER)


def layer_blob(manifest: Path, blobs: Path, media_type: str) -> Path | str:
    """The blob of a manifest's layer of `media_type` (the model, a vision projector), or why there is none."""
    try:
        layers = json.loads(manifest.read_text()).get("layers", [])
        digest = next(layer["digest"] for layer in layers if layer.get("mediaType") == media_type)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError, TypeError, KeyError):
        return "its manifest is not valid JSON"
    except StopIteration:
        return f"its manifest has no {media_type.rsplit('.', 1)[-1]} layer"
    return blobs / str(digest).replace(":", "-", 1)


def ollama_manifests(manifests: Path) -> list[Path]:
    """Every manifest in an Ollama store's `manifests` folder (`registry/namespace/model/tag`), in order."""
    return sorted(p for p in manifests.glob("*/*/*/*") if p.is_file())


def manifest_of(blob: Path) -> tuple[Path, Path] | None:
    """(the first manifest naming `blob` as its model, the store's manifests folder) for a blob in an Ollama store;
    None for any other file. Reads the manifests only."""
    manifests = blob.parent.parent / "manifests"
    if blob.parent.name != "blobs" or not manifests.is_dir():
        return None
    return next(((m, manifests) for m in ollama_manifests(manifests) if model_blob(m, blob.parent) == blob), None)


def ollama_name_of(blob: Path) -> str | None:
    """The Ollama name ("llama3.2:3b") of a blob in an Ollama store (its first manifest's, as the scan lists it), or
    None for any other file."""
    found = manifest_of(blob)
    return ollama_name(*found) if found else None


def scan_ollama(root: Path) -> Iterator[FoundModel]:
    manifests = root / "manifests"
    seen: set[Path] = set()
    for manifest in ollama_manifests(manifests):
        name = ollama_name(manifest, manifests)
        blob = model_blob(manifest, root / "blobs")
        if isinstance(blob, str):
            yield FoundModel(name, OLLAMA, manifest, "gguf", 0, problem=blob)
        elif blob not in seen:
            seen.add(blob)
            found = gguf_entry(name, OLLAMA, blob) if blob.exists() else FoundModel(
                name, OLLAMA, blob, "gguf", 0, problem="its model blob is missing")  # fmt: skip
            if found is not None:
                yield found


# -- LM Studio, llama.cpp, HF cache --------------------------------------------------------------
def scan_lm_studio(root: Path) -> Iterator[FoundModel]:
    """`<publisher>/<repo>/*.gguf` files and `<publisher>/<repo>` MLX folders."""
    for repo in sorted(p for p in root.glob("*/*") if p.is_dir()):
        publisher = repo.parent.name
        if (repo / "config.json").is_file() and any(repo.glob("*.safetensors")):
            yield mlx_entry(f"{publisher}/{repo.name}", LM_STUDIO, repo)
        for file in sorted(repo.glob("*.gguf")):
            found = gguf_entry(f"{publisher}/{file.stem}", LM_STUDIO, file)
            if found is not None:
                yield found


def scan_llama_cpp(root: Path) -> Iterator[FoundModel]:
    for file in sorted(root.rglob("*.gguf")):
        found = gguf_entry(file.stem, LLAMA_CPP, file)
        if found is not None:
            yield found


def scan_hf_cache(cache: Path) -> Iterator[FoundModel]:
    """GGUF files in each repo's newest snapshot (MLX repos there are Cabin's own list already)."""
    from huggingface_hub import scan_cache_dir
    from huggingface_hub.errors import CacheNotFound

    try:
        repos = scan_cache_dir(cache).repos
    except CacheNotFound:
        return
    for repo in sorted(repos, key=lambda r: r.repo_id.lower()):
        if repo.repo_type != "model" or not repo.revisions:
            continue
        revision = max(repo.revisions, key=lambda r: r.last_modified)
        for file in sorted(revision.files, key=lambda f: f.file_path):
            if file.file_name.endswith(".gguf"):
                inside = file.file_path.relative_to(revision.snapshot_path).as_posix()
                found = gguf_entry(f"{repo.repo_id}/{inside}", HF_CACHE, file.file_path)
                if found is not None:
                    yield found


def already_in_cabin(model: FoundModel) -> bool:
    """Whether Import would find its model already there: the folder it would write, or the added folder."""
    from engine.models import local
    from engine.models.gguf_import import default_import_dest

    if model.kind == "mlx":
        return model.path.resolve() in local.added_folders()
    return default_import_dest(model.path, model.import_name).exists()


def scan(stores: Stores | None = None) -> list[FoundModel]:
    """Every model found in the other apps' stores, in store order, each marked if Cabin already has it.
    Reads headers only; writes nothing."""
    return [replace(m, in_cabin=already_in_cabin(m)) for m in find_all(stores)]


def find_all(stores: Stores | None = None) -> list[FoundModel]:
    stores = stores or Stores.from_env()
    found: list[FoundModel] = []
    if stores.ollama.is_dir():
        found += scan_ollama(stores.ollama)
    for root in stores.lm_studio:
        if root.is_dir():
            found += scan_lm_studio(root)
    for root in stores.llama_cpp:
        if root.is_dir():
            found += scan_llama_cpp(root)
    if stores.hf_cache is not None:
        found += scan_hf_cache(stores.hf_cache)
    return found
