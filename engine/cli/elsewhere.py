"""Models other apps keep, on the command line: the "Found elsewhere" part of `cabin models list` (with the command
that imports each), and `--model NAME` finding one by its name there (or a GGUF Cabin ran before, by its name)."""

from __future__ import annotations

import shlex
from pathlib import Path

from engine.cli.models import table
from engine.errors import ModelError
from engine.memory import format_bytes
from engine.models.elsewhere import FoundModel, find_all


def found_row(model: FoundModel, context: int, budget: int) -> list[str]:
    fit = model.fit(context, budget)
    status = fit.verdict.value if fit else f"unusable: {model.problem}"
    size = format_bytes(model.size_bytes) if model.size_bytes else "-"
    return [model.name, model.source, model.architecture, model.quant, size, status]


def found_elsewhere(found: list[FoundModel], context: int, budget: int) -> str:
    """The section's text: a table whose usable rows are each followed by their import command (or a note that
    Cabin has the model already)."""
    from engine.models.gguf_model import can_run_gguf

    rows = [["MODEL", "FROM", "ARCH", "QUANT", "SIZE", "FIT"]] + [found_row(m, context, budget) for m in found]
    lines = table(rows).splitlines()
    out = ["Found elsewhere (other apps' models; import one to use it in Cabin):", lines[0]]
    runs = can_run_gguf()
    for model, line in zip(found, lines[1:], strict=True):
        out.append(line)
        if model.in_cabin:
            out.append("    already in Cabin")
        elif model.usable:
            out.append(f"    {model.import_command}")
        if model.usable and model.kind == "gguf" and runs:
            out.append(f"    cabin chat --model {shlex.quote(model.name)}   (runs it as it is, on llama.cpp)")
    return "\n".join(out)


def model_to_load(spec: str) -> str:
    """What `--model` names, as the engine loads it: a path as given; a model in Cabin by its key, path or (a GGUF
    run before) name; else a model another app keeps, by its name there (a GGUF runs as it is on llama.cpp, an MLX
    folder where it is). A name nobody knows is left for the engine to refuse."""
    from engine.models.store import find_model

    if Path(spec).expanduser().exists():
        return spec
    try:
        return find_model(spec).key
    except ModelError:
        pass
    found = next((f for f in find_all() if spec in (f.name, f.name.removesuffix(":latest"))), None)
    return str(runnable_path(found)) if found else spec


def runnable_path(found: FoundModel) -> Path:
    """Where a model found elsewhere runs from; one line when it cannot run as it is."""
    from engine.models.gguf_model import LLAMA_CPP_MISSING, can_run_gguf

    if found.problem:
        raise ModelError(f"{found.name} ({found.source}, {found.path}) cannot be used: {found.problem}")
    if found.kind == "gguf" and not can_run_gguf():
        raise ModelError(f"{found.name} is a GGUF model {found.source} keeps: {LLAMA_CPP_MISSING}, "
                         f"or import it ({found.import_command})")  # fmt: skip
    return found.path
