"""The curated catalogue of mlx-community 4-bit models (resources/catalogue.json): read locally, never fetched."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from engine.models.fit import KVShape

CATALOGUE_FILE = Path(__file__).resolve().parents[2] / "resources" / "catalogue.json"
USES = ("autocomplete", "chat", "code", "reasoning", "vision", "embedding")
"""An "embedding" entry is a sentence encoder for documents and /v1/embeddings, not a chat model."""
CAPABILITIES = ("thinking", "vision", "tools")


@dataclass(frozen=True)
class CatalogueEntry:
    repo_id: str
    use: str
    parameters: int
    size_bytes: int
    kv: KVShape
    max_context: int
    vision: bool = False
    """It can read images (Cabin's chat sends it text only for now)."""
    thinking: bool = False
    """It reasons before answering: `<think>…</think>`, or gpt-oss's analysis channel."""
    tools: bool = False
    """Its chat template takes tool (function) definitions."""
    note: str = ""

    @property
    def capabilities(self) -> tuple[str, ...]:
        """Its flags by name, in a fixed order: what the Models pane shows as badges."""
        return tuple(name for name in CAPABILITIES if getattr(self, name))


def entry_from(record: dict) -> CatalogueEntry:
    return CatalogueEntry(
        repo_id=record["repo_id"],
        use=record["use"],
        parameters=record["parameters"],
        size_bytes=record["size_bytes"],
        kv=KVShape(record["layers"], record["kv_heads"], record["head_dim"]),
        max_context=record["max_context"],
        vision=record.get("vision", False),
        thinking=record.get("thinking", False),
        tools=record.get("tools", False),
        note=record.get("note", ""),
    )


@cache
def load_catalogue(path: Path = CATALOGUE_FILE) -> tuple[CatalogueEntry, ...]:
    """Every entry, grouped by use (autocomplete, chat, code, reasoning, vision, embedding) then smallest first."""
    records = json.loads(path.read_text())["models"]
    entries = [entry_from(r) for r in records]
    return tuple(sorted(entries, key=lambda e: (USES.index(e.use), e.size_bytes)))


def find_entry(repo_id: str) -> CatalogueEntry | None:
    return next((e for e in load_catalogue() if e.repo_id == repo_id), None)
