"""The export summary as text lines: sizes before and after, checks, the per-layer error table, notes."""

from __future__ import annotations

from engine.coreml.events import ExportSummary
from engine.memory import format_bytes


def headline(summary: ExportSummary) -> str:
    return (
        f"Exported {summary.source_model} to {summary.out}/{summary.package}\n"
        f"Size {format_bytes(summary.fp16_bytes)} fp16 -> {format_bytes(summary.package_bytes)} "
        f"({summary.compression_ratio:.0%}) · {summary.seconds:.0f} s · peak memory {format_bytes(summary.peak_memory)}"
    )


def check_lines(summary: ExportSummary) -> list[str]:
    lines = []
    if summary.torch_vs_mlx is not None:
        lines.append(f"PyTorch vs MLX logits: relative error {summary.torch_vs_mlx:.1e}")
    if summary.program_vs_torch is not None:
        same = "same" if summary.program_top_token_matches else "DIFFERENT"
        lines.append(
            f"Saved program (numpy MIL run, prefill + decode with state) vs PyTorch: "
            f"relative error {summary.program_vs_torch:.1e}, {same} next tokens"
        )
    if summary.fidelity is not None:
        lines.append(f"Quality: {summary.fidelity.describe()}")
        if summary.fidelity.costs_accuracy:
            f = summary.fidelity
            lines.append(
                f"WARNING: {summary.mode} {summary.bits}-bit costs accuracy on this model: {1 - f.agreement:.0%} of next "
                f"tokens differ from MLX's and perplexity is {f.perplexity / f.reference_perplexity - 1:+.0%}."
            )
    return lines


def layer_lines(summary: ExportSummary) -> list[str]:
    if not summary.layers:
        return []
    width = max(len(layer.name) for layer in summary.layers)
    lines = [f"{'weight':<{width}}  bits  group  rel. error"]
    for layer in summary.layers:
        lines.append(f"{layer.name:<{width}}  {layer.bits:>4}  {layer.group_size:>5}  {layer.relative_error:.2%}")
    return lines


def summary_text(summary: ExportSummary) -> str:
    parts = [headline(summary), *check_lines(summary)]
    if summary.layers:
        parts += ["", *layer_lines(summary)]
    if summary.notes:
        parts += ["", *(f"note: {note}" for note in summary.notes)]
    return "\n".join(parts)
