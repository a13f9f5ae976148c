"""Other apps' model stores as they lay them out on disk (Ollama, LM Studio, llama.cpp, the HF cache), filled with
small GGUF files from tests/gguf_factory.py."""

from __future__ import annotations

import hashlib
import json
import shutil
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tests.gguf_factory import GgufSpec, Q, write_gguf

if TYPE_CHECKING:
    from engine.models.elsewhere import Stores

SMALL = GgufSpec(hidden=64, intermediate=128)


def write_small(path: Path, kind: Q = Q.Q8_0, arch: str = "llama", metadata: dict[str, Any] | None = None) -> Path:
    """A two-layer, 64-wide GGUF with every weight in `kind`, plus `metadata` keys (general.file_type, ...)."""
    spec = replace(SMALL, arch=arch, linear_type=kind, embedding_type=kind, extra_metadata=metadata or {})
    return write_gguf(path, spec)


def ollama_manifest(blob_digest: str) -> dict:
    """A manifest as Ollama writes it: config, a GGUF model layer, a template layer."""
    layer = {"mediaType": "application/vnd.ollama.image.model", "digest": blob_digest, "size": 0}
    template = {"mediaType": "application/vnd.ollama.image.template", "digest": "sha256:" + "0" * 64, "size": 3}
    return {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": {"mediaType": "application/vnd.docker.container.image.v1+json", "digest": "sha256:" + "1" * 64},
            "layers": [layer, template]}  # fmt: skip


def add_to_ollama(root: Path, name: str, gguf: bytes, registry: str = "registry.ollama.ai") -> Path:
    """Store `gguf` as a blob named by its hash and `name` ("model:tag" or "ns/model:tag") as its manifest."""
    digest = hashlib.sha256(gguf).hexdigest()
    blob = root / "blobs" / f"sha256-{digest}"
    blob.parent.mkdir(parents=True, exist_ok=True)
    blob.write_bytes(gguf)
    repo, tag = name.split(":")
    namespace, model = repo.split("/") if "/" in repo else ("library", repo)
    manifest = root / "manifests" / registry / namespace / model / tag
    manifest.parent.mkdir(parents=True, exist_ok=True)
    manifest.write_text(json.dumps(ollama_manifest(f"sha256:{digest}")))
    return blob


def write_split(folder: Path, stem: str, count: int = 2) -> list[Path]:
    """A model split llama.cpp's way: `stem-0000N-of-0000M.gguf`, each shard with its own header."""
    folder.mkdir(parents=True, exist_ok=True)
    return [write_small(folder / f"{stem}-{i + 1:05d}-of-{count:05d}.gguf", metadata={"split.no": i, "split.count": count})
            for i in range(count)]  # fmt: skip


def build_stores(home: Path, mlx_model: Path) -> Stores:
    """A home folder as someone who used Ollama, LM Studio, llama.cpp and GGUF repos from the Hub would have it."""
    from engine.models.elsewhere import Stores

    home.mkdir(parents=True)
    tiny = write_small(home / "tiny.gguf").read_bytes()
    (home / "tiny.gguf").unlink()
    ollama = home / ".ollama" / "models"
    add_to_ollama(ollama, "smol:135m", tiny)
    add_to_ollama(ollama, "smol:latest", tiny)  # an alias: the same blob
    add_to_ollama(ollama, "bartowski/cut:q4", tiny[:-100])
    repo = home / ".lmstudio" / "models" / "lmstudio-community" / "Tiny-GGUF"
    repo.mkdir(parents=True)
    write_small(repo / "Tiny-Q4_0.gguf", Q.Q4_0, metadata={"general.file_type": 2})
    write_small(repo / "mmproj-Tiny-F16.gguf", Q.F16, arch="clip", metadata={"general.type": "mmproj"})
    shutil.copytree(mlx_model, home / ".lmstudio" / "models" / "mlx-community" / "tiny-llama")
    write_split(home / ".cache" / "llama.cpp", "ggml-org_tiny")
    snapshot = home / "hf" / "hub" / "models--TheBloke--Tiny-GGUF" / "snapshots" / ("a" * 40)
    snapshot.mkdir(parents=True)
    write_small(snapshot / "tiny.Q8_0.gguf")
    (snapshot.parents[1] / "refs").mkdir()
    (snapshot.parents[1] / "refs" / "main").write_text("a" * 40)
    return replace(Stores.from_env(home, env={}), hf_cache=home / "hf" / "hub")
