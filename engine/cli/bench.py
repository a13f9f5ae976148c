"""`cabin bench`: prompt processing and generation speed, with the memory-bandwidth roofline.

engine.bench imports MLX, so it is imported when a benchmark runs, not for `cabin bench --help`.
"""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

from engine.cli.common import add_model_arguments, loaded_engine, positive_int
from engine.memory import format_bytes

if TYPE_CHECKING:
    from engine.bench import BenchResult


def register(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("-p", "--prompt-tokens", type=positive_int, default=512)
    parser.add_argument("-n", "--gen-tokens", type=positive_int, default=128)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    parser.set_defaults(run=run)


def report(result: BenchResult) -> str:
    from engine.bench import describe_fraction

    pp, tg = result.pp_tps, result.tg_tps
    kind = f"{result.bits}-bit" if result.bits else "stored as " + result.dtype
    return "\n".join(
        [
            f"model {result.model} ({kind}) on {result.device}",
            f"compute: {result.compute}; matmuls: {result.blas}",
            f"pp{result.prompt_tokens}: {pp.median:.1f} tok/s (min {pp.min:.1f}, max {pp.max:.1f})",
            f"tg{result.generated_tokens}: {tg.median:.2f} tok/s (min {tg.min:.2f}, max {tg.max:.2f})",
            f"peak memory {format_bytes(result.peak_memory)}",
            f"roofline: {format_bytes(result.bytes_per_token)} read per token at {result.bandwidth_gbs:.1f} GB/s "
            f"= {result.roofline_tps:.1f} tok/s; {describe_fraction(result.roofline_fraction)}",
        ]
    )


def run(args: argparse.Namespace) -> int:
    from engine.bench import bench_loaded_model

    with loaded_engine(args) as engine:
        result = bench_loaded_model(engine, args.prompt_tokens, args.gen_tokens, args.repeat)
    print(json.dumps(result.to_dict(), indent=2) if args.json else report(result))
    return 0
