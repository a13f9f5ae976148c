"""What an export records about itself: sizes, peak memory, notes on its compression, and the manifest's body."""

from __future__ import annotations

import resource
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from engine.coreml.checks import AGREEMENT_TOLERANCE
from engine.coreml.events import ExportSummary
from engine.coreml.options import ExportOptions
from engine.coreml.source import SourceModel

if TYPE_CHECKING:
    from engine.coreml.export import Export


def peak_rss() -> int:
    """Peak resident memory of this process in bytes (ru_maxrss is KiB on Linux, bytes on macOS)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def program_weight_bytes(mlmodel: Any) -> int:
    """Bytes of every constant in the fp16 program: the size of the uncompressed package's weights."""
    return sum(
        op.outputs[0].val.nbytes
        for op in mlmodel._mil_program.functions["main"].operations
        if op.op_type == "const" and isinstance(op.outputs[0].val, np.ndarray)
    )


def folder_bytes(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def compression_notes(source: SourceModel, options: ExportOptions, result: Any) -> list[str]:
    notes = []
    if source.quantized and options.mode in ("palettize", "linear"):
        notes.append(
            f"The source weights were already {source.info.bits}-bit (MLX affine); they were dequantized and "
            f"re-compressed, so the package carries two rounding errors stacked, not one "
            f"(--mode affine keeps MLX's own quantization instead)."
        )
    if options.mode == "affine":
        notes.append(
            f"Kept the source's own MLX {options.bits}-bit quantization (groups of {options.group_size}); "
            f"the remaining error is fp16 rounding of scales and offsets."
        )
    for plan in result.adjusted:
        notes.append(
            f"{plan.const}: size {plan.requested} does not divide {plan.shape}; used {plan.size} instead."
        )
    if result.uncompressed:
        notes.append(f"These large weights stayed fp16: {', '.join(result.uncompressed)}.")
    if options.embeddings == "fp16":
        notes.append("The token embedding table was left in fp16 (--embeddings fp16).")
    return notes


def manifest_body(summary: ExportSummary, export: Export) -> dict:
    from dataclasses import asdict

    from engine.coreml import golden, package

    source, shape = export.source, export.cache_shape
    return {
        "package": summary.package,
        "source": {
            "model": source.info.name,
            "architecture": source.info.model_type,
            "parameters": source.parameters,
            "bits": source.info.bits,
            "bytes": source.info.weight_bytes,
        },
        "recipe": export.options.recipe,
        "interface": package.interface(shape, summary.context, export.config["vocab_size"], export.wrapper.window),
        "tokens": {"eos": export.eos, "bos": export.bos},
        "sizes": {"fp16_weights": summary.fp16_bytes, "package": summary.package_bytes},
        "golden": {
            "file": package.GOLDEN_FILE,
            "steps": golden.STEPS,
            "reference": "PyTorch (fp32) with the package's decompressed weights",
            "tolerance": {"relative_error": AGREEMENT_TOLERANCE, "same_next_token": True},
        },
        "checks": {
            "torch_vs_mlx": summary.torch_vs_mlx,
            "program_vs_torch": summary.program_vs_torch,
            "program_top_token_matches": summary.program_top_token_matches,
            "fidelity": fidelity_body(summary.fidelity),
        },
        "weights": [asdict(layer) for layer in summary.layers],
        "notes": summary.notes,
    }


def fidelity_body(result: Any) -> dict | None:
    """The quality figures for the manifest: what was measured, against what, and the numbers."""
    from dataclasses import asdict

    from engine.coreml.fidelity import FIDELITY_TEXT

    if result is None:
        return None
    return {
        **asdict(result),
        "text": FIDELITY_TEXT,
        "method": "one prefill of the text; the saved program run by the numpy MIL interpreter (fp16) "
        "against the source model in MLX float32; teacher-forced top-1 agreement and perplexity",
        "costs_accuracy": result.costs_accuracy,
    }
