"""`cabin export-onnx`: turn a model in the store into an ONNX Runtime GenAI folder for Android, checked by running it."""

from __future__ import annotations

import argparse
from pathlib import Path

from engine.cli.common import positive_int
from engine.cli.export import follow_export
from engine.onnx.options import BLOCK_SIZES, PRECISIONS, OnnxExportOptions
from engine.onnx.process import start_onnx_export


def register(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Export a llama, qwen2, qwen3, mistral, phi3 or gemma3 model (fp16/bf16 or MLX 4-bit) with ONNX Runtime "
        "GenAI's model builder, run it here with onnxruntime-genai against MLX, and write it with a manifest and a "
        "README for Android."
    )
    parser.add_argument("--model", required=True, help="a model folder, or a repo id in the Hugging Face cache")
    parser.add_argument("--out", required=True, type=Path, help="the export folder to create")
    parser.add_argument("--precision", choices=PRECISIONS, default="int4",
                        help="int4: MatMulNBits (an MLX 4-bit model keeps its own blocks); fp16: half the size of fp32; fp32: no compression")
    parser.add_argument("--block-size", type=int, choices=BLOCK_SIZES, default=32, help="int4 block length")
    parser.add_argument("--context", type=positive_int, default=2048, help="longest sequence in tokens")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--no-verify", action="store_true", help="skip running the export against MLX")
    parser.add_argument("--verbose", action="store_true", help="also show the builder's own output")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from engine.onnx.summary import summary_text

    options = OnnxExportOptions(model=args.model, out=args.out, precision=args.precision, block_size=args.block_size,
                                context=args.context, overwrite=args.overwrite, verify=not args.no_verify,
                                verbose=args.verbose)  # fmt: skip
    return follow_export(start_onnx_export(options), summary_text)
