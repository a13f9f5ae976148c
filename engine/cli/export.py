"""`cabin export-coreml`: turn a model in the store into a stateful, compressed Core ML package folder."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from engine.cli.common import positive_int
from engine.coreml.options import BITS, EMBEDDINGS, MODES, ExportError, ExportOptions
from engine.coreml.process import start_export
from engine.coreml.summary import summary_text
from engine.jobs import JobFinished, JobProgress


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Export a llama, qwen2, qwen3, mistral, phi3 or gemma3 model (fp16/bf16 or MLX 4-bit) as a stateful "
        ".mlpackage with its tokenizer, golden test vectors, a manifest and a README with Swift code."
    )
    parser.add_argument("--model", required=True, help="a model folder, or a repo id in the Hugging Face cache")
    parser.add_argument("--out", required=True, type=Path, help="the export folder to create")
    parser.add_argument("--mode", choices=MODES, default="palettize",
                        help="palettize: k-means palettes (Neural Engine); linear: int4/int8 blocks (Mac GPU); "
                        "affine: keep an MLX 4/8-bit model's own quantization; fp16: none")
    bits = sorted({b for mode in ("palettize", "linear") for b in BITS[mode]})  # affine takes the source's
    parser.add_argument("--bits", type=int, choices=bits, default=4)
    parser.add_argument("--group-size", type=positive_int, default=0,
                        help="output channels per palette (default 16) or input values per block (default 32)")
    parser.add_argument("--context", type=positive_int, default=2048, help="longest conversation in tokens")
    parser.add_argument("--embeddings", choices=EMBEDDINGS, default="8bit", help="compress the embedding table or not")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--no-verify", action="store_true", help="skip the MLX and saved-program checks")
    parser.add_argument("--verbose", action="store_true",
                        help="also show coremltools' and torch's own progress bars and warnings")
    parser.add_argument("--author", default="")
    parser.add_argument("--license", default="")
    parser.add_argument("--description", default="")
    parser.set_defaults(run=run)


def options_from(args: argparse.Namespace) -> ExportOptions:
    return ExportOptions(
        model=args.model,
        out=args.out,
        mode=args.mode,
        bits={"fp16": 16, "affine": 4}.get(args.mode, args.bits),
        group_size=args.group_size,
        context=args.context,
        embeddings=args.embeddings,
        overwrite=args.overwrite,
        verify=not args.no_verify,
        author=args.author,
        license=args.license,
        description=args.description,
        verbose=args.verbose,
    )


def show(event: JobProgress) -> None:
    print(f"[{event.fraction:4.0%}] {event.message}", file=sys.stderr, flush=True)


def run(args: argparse.Namespace) -> int:
    return follow_export(start_export(options_from(args)), summary_text)


def follow_export(job: Any, summary: Callable[[Any], str]) -> int:
    """Show an export job's progress on stderr and its summary on stdout; Ctrl-C cancels it (nothing is written)."""
    try:
        for event in job:
            if isinstance(event, JobProgress):
                show(event)
    except KeyboardInterrupt:
        job.cancel()
        print("cabin: export cancelled; nothing was written", file=sys.stderr)
        return 130
    if not isinstance(job.result, JobFinished):
        raise ExportError(job.result.message)
    print(summary(job.result.result))
    return 0
