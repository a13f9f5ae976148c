"""Which catalogue models suit this machine: each with its fit, and the largest that fits picked per use."""

from __future__ import annotations

from dataclasses import dataclass

from engine.models.catalogue import CatalogueEntry, load_catalogue
from engine.models.fit import Fit, Verdict, assess


@dataclass(frozen=True)
class Suggestion:
    entry: CatalogueEntry
    fit: Fit
    recommended: bool  # the largest model of its use that fits comfortably


def suggest(budget: int, context: int, kv_bits: int | None = None) -> list[Suggestion]:
    """`kv_bits`: count the KV cache quantized (catalogue models run on MLX, which can)."""
    fits = [(e, assess(e.size_bytes, e.kv, min(context, e.max_context), budget, kv_bits)) for e in load_catalogue()]
    best: dict[str, CatalogueEntry] = {}
    for entry, fit in fits:
        if fit.verdict is Verdict.FITS and entry.parameters >= best.get(entry.use, entry).parameters:
            best[entry.use] = entry
    return [Suggestion(e, f, best.get(e.use) is e) for e, f in fits]



def first_download(budget: int, context: int, have: set[str], use: str = "chat") -> Suggestion | None:
    """The catalogue model to offer someone with no model yet: the recommended one for `use`, unless already `have`."""
    pick = next((s for s in suggest(budget, context) if s.recommended and s.entry.use == use), None)
    return pick if pick is not None and pick.entry.repo_id not in have else None
