"""manifest.json of an ONNX export: what it holds (files with SHA-256), how it was made, and what was checked."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING

from engine import __version__
from engine.coreml.fidelity import AGREEMENT_GOAL, FIDELITY_TEXT
from engine.coreml.package import MANIFEST_FILE, file_list, write_json
from engine.onnx.check import GREEDY_TOKENS

if TYPE_CHECKING:
    from engine.onnx.export import OnnxExportSummary


def checks_body(summary: OnnxExportSummary) -> dict:
    fidelity = summary.fidelity
    return {
        "runtime": f"onnxruntime-genai {version('onnxruntime-genai')} (CPU, Linux)",
        "reference": "the source model in MLX float32 (mlx_lm)",
        "greedy": {"tokens": summary.greedy_tokens, "same_prefix": summary.greedy_same_prefix,
                   "required": "all of them (fp32, fp16)", "of": GREEDY_TOKENS},  # fmt: skip
        "fidelity": None if fidelity is None else {
            **asdict(fidelity), "text": FIDELITY_TEXT, "goal": AGREEMENT_GOAL,
            "method": "one prefill of the text; teacher-forced top-1 agreement and perplexity",
        },
    }  # fmt: skip


def write_manifest(dest: Path, summary: OnnxExportSummary) -> None:
    body = {
        "format": "cabin-onnx-export/1",
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cabin_version": __version__,
        "tools": {name: version(name) for name in ("onnxruntime-genai", "onnxruntime", "onnx", "mlx-lm")},
        "source": {"model": summary.source_model, "architecture": summary.architecture,
                   "parameters": summary.parameters, "bytes": summary.source_bytes},  # fmt: skip
        "recipe": {"precision": summary.precision, "block_size": summary.block_size, "context": summary.context,
                   "builder": "onnxruntime_genai.models.builder", "mlx_blocks_kept": summary.mapped_layers,
                   "requantized": summary.requantized_layers},  # fmt: skip
        "checks": checks_body(summary),
        "notes": summary.notes,
        "files": file_list(dest),
    }
    write_json(dest / MANIFEST_FILE, body)
