"""`cabin models`: list, search, pull, rm, convert, import, add and recommend models."""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from engine.cli.common import positive_int
from engine.errors import CabinError, CancelledByUser
from engine.memory import format_bytes, system_memory
from engine.models.fit import DEFAULT_CONTEXT, Fit, Verdict, assess, memory_budget
from engine.models.recommend import suggest
from engine.models.store import StoredModel
from engine.models.text import format_ago, format_count

BAR_WIDTH = 24


def register(parser: argparse.ArgumentParser) -> None:
    verbs = parser.add_subparsers(dest="verb", metavar="VERB", required=True)
    listing = verbs.add_parser("list", help="the models on this machine (HF cache, converted, added folders, GGUF files run)")
    add_context(listing)
    listing.set_defaults(run=run_list)
    search = verbs.add_parser("search", help="search mlx-community models on the Hugging Face Hub")
    search.add_argument("query")
    search.set_defaults(run=run_search)
    pull = verbs.add_parser("pull", help="download a model into the Hugging Face cache (resumes; Ctrl-C cancels)")
    pull.add_argument("repo", help="e.g. mlx-community/Qwen2.5-7B-Instruct-4bit")
    pull.set_defaults(run=run_pull)
    rm = verbs.add_parser("rm", help="delete a model (a folder you added is only forgotten)")
    rm.add_argument("model", help="a repo id or folder path, as `cabin models list` shows it")
    rm.add_argument("-y", "--yes", action="store_true", help="do not ask for confirmation")
    rm.set_defaults(run=run_rm)
    convert = verbs.add_parser("convert", help="quantize a Hugging Face model folder or repo to MLX")
    convert.add_argument("source", help="a model folder or a Hugging Face repo id")
    convert.add_argument("--bits", type=int, default=4, help="8, 6, 4, 3 or 2 (default 4)")
    convert.add_argument("--group-size", type=int, default=64, help="32, 64 or 128 (default 64)")
    convert.add_argument("--name", help="name of the converted model's folder (default: SOURCE-<bits>bit)")
    convert.set_defaults(run=run_convert)
    gguf = verbs.add_parser("import", help="import a GGUF file (llama.cpp, Ollama, LM Studio) keeping its quantization")
    gguf.add_argument("file", help="a .gguf file")
    gguf.add_argument("--out", help="the folder to create (default: in Cabin's models folder, listed by `models list`)")
    gguf.add_argument("--name", help="name of the folder in Cabin's models folder (default: the file's name)")
    gguf.add_argument("--overwrite", action="store_true", help="replace the folder if it exists")
    gguf.set_defaults(run=run_import)
    add = verbs.add_parser("add", help="list a model folder you have elsewhere on disk")
    add.add_argument("path")
    add.set_defaults(run=run_add)
    recommend = verbs.add_parser("recommend", help="catalogue models that fit this machine")
    add_context(recommend)
    recommend.set_defaults(run=run_recommend)


def add_context(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--context", type=positive_int, default=DEFAULT_CONTEXT,
                        help=f"context length the fit check plans for (default {DEFAULT_CONTEXT})")  # fmt: skip


def table(rows: list[list[str]]) -> str:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in rows)


def model_row(model: StoredModel, fit: Fit | None) -> list[str]:
    """A GGUF file run as it is by its name (an Ollama model's, or the file's: `--model` takes it), the rest by key."""
    name = model.label or model.key
    info = model.info
    if info is None:
        return [name, "-", "-", "-", format_bytes(model.size_bytes), format_ago(model.last_used), model.status]
    bits = info.quant or (f"{info.bits}-bit" if info.bits else "16/32-bit")
    return [name, info.type_label, format_count(info.parameters), bits, format_bytes(model.size_bytes),
            format_ago(model.last_used), fit.verdict.value if fit else "ready"]  # fmt: skip


def on_cpu_backend() -> bool:
    import mlx.core as mx

    return mx.default_device().type == mx.cpu


def runs_as(model: StoredModel, context: int, budget: int) -> str:
    """'float32' where the CPU fast path (engine/compute_dtype.py) will upcast this quantized model, 'llama.cpp' for a
    GGUF file run as it is, else 'stored'."""
    from engine.compute_dtype import float32_fit

    info = model.info
    if info is None:
        return "-"
    if info.quant is not None:
        return "llama.cpp"
    upcast = info.bits and on_cpu_backend() and float32_fit(info, context, budget).verdict is Verdict.FITS
    return "float32" if upcast else "stored"


def run_list(args: argparse.Namespace) -> int:
    from engine.cli.elsewhere import found_elsewhere
    from engine.models.elsewhere import scan
    from engine.models.store import list_models

    models, found = list_models(), scan()
    if not models and not found:
        print("No models yet. Try: cabin models recommend, then cabin models pull REPO")
        return 0
    budget = memory_budget()
    list_installed(models, args.context, budget)
    if found:
        print(f"\n{found_elsewhere(found, args.context, budget)}")
    return 0


def list_installed(models: list[StoredModel], context: int, budget: int) -> None:
    if not models:
        print("No models in Cabin yet: import one found elsewhere (below), or try cabin models recommend.")
        return
    rows = [["MODEL", "ARCH", "PARAMS", "BITS", "SIZE", "LAST USED", "STATUS / FIT", "RUNS AS"]]
    for model in models:
        fit = assess(model.info.weight_bytes, model.info.kv, context, budget) if model.info else None
        rows.append(model_row(model, fit) + [runs_as(model, context, budget)])
    print(table(rows))
    print(f"\nFit at {context:,} tokens of context against ~{format_bytes(budget)} usable memory.")
    if on_cpu_backend():
        print("On this CPU backend, 4-bit and 16-bit models run in float32 when that copy fits comfortably (faster here).")


def quiet_hub_logging() -> None:
    """huggingface_hub's retry warnings would break the progress line; its errors still reach the user."""
    from huggingface_hub.utils import logging

    logging.set_verbosity_error()


def run_search(args: argparse.Namespace) -> int:
    from engine.models.catalogue import find_entry
    from engine.models.hub import search

    quiet_hub_logging()
    found = search(args.query)
    if not found:
        print(f"No mlx-community model matches '{args.query}'.")
        return 0
    rows = [["MODEL", "DOWNLOADS", "LIKES", "UPDATED", ""]]
    for model in found:
        updated = model.last_modified.date().isoformat() if model.last_modified else "-"
        rows.append([model.repo_id, f"{model.downloads:,}", str(model.likes), updated,
                     "in catalogue" if find_entry(model.repo_id) else ""])  # fmt: skip
    print(table(rows))
    return 0


def progress_bar(fraction: float, text: str) -> str:
    filled = int(fraction * BAR_WIDTH)
    return f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {fraction:4.0%} {text}\033[K"


def run_pull(args: argparse.Namespace) -> int:
    from engine.models.download import pull

    def show(progress: Any) -> None:
        sys.stderr.write(progress_bar(progress.fraction, progress.describe()))
        sys.stderr.flush()

    quiet_hub_logging()
    try:
        model = pull(args.repo, on_progress=show, cancel=threading.Event())
    except CancelledByUser as e:
        print(f"\n{e}", file=sys.stderr)
        return 130
    print(file=sys.stderr)
    print(f"{model.key} is ready ({format_bytes(model.size_bytes)}): cabin chat --model {model.key}")
    return 0


def confirmed(question: str) -> bool:
    if not sys.stdin.isatty():
        raise CabinError("not deleting without confirmation: pass --yes")
    return input(f"{question} [y/N] ").strip().lower() in ("y", "yes")


def run_rm(args: argparse.Namespace) -> int:
    from engine.models.store import delete_model, find_model

    model = find_model(args.model)
    kept = model.source in ("folder", "gguf")  # the user's own files (or another app's): only forgotten
    action = {"folder": "Forget the folder", "gguf": "Forget the file"}.get(model.source, "Delete")
    if not args.yes and not confirmed(f"{action} {model.key} ({format_bytes(model.size_bytes)})?"):
        print("Nothing deleted.")
        return 1
    freed = delete_model(model.key)
    print(f"Forgot {model.key} (its files are untouched)" if kept
          else f"Deleted {model.key}: {format_bytes(freed)} freed")  # fmt: skip
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from engine.models.convert import convert

    def show(progress: Any) -> None:
        sys.stderr.write(progress_bar(progress.fraction or 0.0, progress.message))
        sys.stderr.flush()

    result = convert(args.source, args.bits, args.group_size, args.name, on_progress=show)
    print(file=sys.stderr)
    ratio = result.after / result.before if result.before else 0
    print(f"Converted to {args.bits}-bit: {format_bytes(result.before)} -> {format_bytes(result.after)} ({ratio:.0%})")
    print(f"Chat with it: cabin chat --model {result.model.key}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    """Ctrl-C lands in import_gguf, which removes its partial folder; main() turns it into exit 130."""
    from pathlib import Path

    from engine.models.gguf_import import default_import_dest, import_gguf

    def show(fraction: float, text: str) -> None:
        sys.stderr.write(progress_bar(fraction, text))
        sys.stderr.flush()

    source = Path(args.file).expanduser()
    dest = Path(args.out).expanduser() if args.out else default_import_dest(source, args.name)
    summary = import_gguf(source, dest, overwrite=args.overwrite, on_progress=show)
    print(file=sys.stderr)
    print("\n".join(summary.lines()))
    print(f"Chat with it: cabin chat --model {dest}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    from pathlib import Path

    from engine.models.store import add_model_folder

    model = add_model_folder(Path(args.path))
    print(f"Added {model.key} ({format_bytes(model.size_bytes)})")
    return 0


def run_recommend(args: argparse.Namespace) -> int:
    budget = memory_budget()
    total = system_memory().total
    print(f"This machine: {format_bytes(total)} memory, ~{format_bytes(budget)} usable by MLX. "
          f"Needs are at {args.context:,} tokens of context; figures are approximate.\n")  # fmt: skip
    rows = [["USE", "MODEL", "PARAMS", "SIZE", "NEEDS", "FIT", ""]]
    for s in suggest(budget, args.context):
        note = " · ".join(("recommended",) * s.recommended + s.entry.capabilities)
        rows.append([s.entry.use, s.entry.repo_id, format_count(s.entry.parameters), format_bytes(s.entry.size_bytes),
                     format_bytes(s.fit.needed), s.fit.verdict.value, note])  # fmt: skip
    print(table(rows))
    return 0
