"""An ONNX export's summary as text: size, time, memory, the checks run with ONNX Runtime GenAI, notes."""

from __future__ import annotations

from engine.memory import format_bytes
from engine.onnx.export import OnnxExportSummary


def summary_text(summary: OnnxExportSummary) -> str:
    lines = [
        f"Exported {summary.source_model} ({summary.precision}) to {summary.out}",
        f"Size {format_bytes(summary.export_bytes)} (source {format_bytes(summary.source_bytes)}) · "
        f"{summary.seconds:.0f} s · peak memory {format_bytes(summary.peak_memory)}",
    ]
    if summary.greedy_tokens is not None:
        lines.append(f"Greedy (ONNX Runtime GenAI vs MLX float32): first {summary.greedy_same_prefix} of "
                     f"{summary.greedy_tokens} tokens the same")  # fmt: skip
    if summary.fidelity is not None:
        lines.append(f"Quality: {summary.fidelity.describe()}")
    lines += [f"note: {note}" for note in summary.notes]
    return "\n".join(lines)
