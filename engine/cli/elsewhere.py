"""The "Found elsewhere" part of `cabin models list`: models other apps keep, and the command that imports each."""

from __future__ import annotations

from engine.cli.models import table
from engine.memory import format_bytes
from engine.models.elsewhere import FoundModel


def found_row(model: FoundModel, context: int, budget: int) -> list[str]:
    fit = model.fit(context, budget)
    status = fit.verdict.value if fit else f"unusable: {model.problem}"
    size = format_bytes(model.size_bytes) if model.size_bytes else "-"
    return [model.name, model.source, model.architecture, model.quant, size, status]


def found_elsewhere(found: list[FoundModel], context: int, budget: int) -> str:
    """The section's text: a table whose usable rows are each followed by their import command (or a note that
    Cabin has the model already)."""
    rows = [["MODEL", "FROM", "ARCH", "QUANT", "SIZE", "FIT"]] + [found_row(m, context, budget) for m in found]
    lines = table(rows).splitlines()
    out = ["Found elsewhere (other apps' models; import one to use it in Cabin):", lines[0]]
    for model, line in zip(found, lines[1:], strict=True):
        out.append(line)
        if model.in_cabin:
            out.append("    already in Cabin")
        elif model.usable:
            out.append(f"    {model.import_command}")
    return "\n".join(out)
