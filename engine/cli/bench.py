"""`cabin bench`: llama-bench's table (pp and tg, t/s ± sd), prompt and generation speed, the memory-bandwidth
roofline; `--compare` runs a GGUF on llama.cpp and its MLX import on MLX in one run.

engine.bench's backends import MLX or llama.cpp, so they are imported when a benchmark runs, not for
`cabin bench --help`.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

from engine.cli.common import add_model_arguments, loaded_engine, positive_int
from engine.memory import format_bytes

if TYPE_CHECKING:
    from engine.bench import BenchPlan, BenchResult
    from engine.bench_speculative import SpeculativeResult
    from engine.generation import Engine


def register(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("-p", "--prompt-tokens", type=positive_int, default=512)
    parser.add_argument("-n", "--gen-tokens", type=positive_int, default=128)
    parser.add_argument("--repeat", type=positive_int, default=3)
    parser.add_argument("--compare", action="store_true",
                        help="with a GGUF file: also run its MLX import (Cabin's, or a temporary one) and compare")  # fmt: skip
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


def full_report(results: list[BenchResult]) -> str:
    """The table, the ratio line when two backends ran, then each result's details."""
    from engine.bench_table import ratio_line, table

    parts = [table(results)]
    if len(results) == 2:
        parts.append(ratio_line(*results))
    return "\n\n".join(parts + [report(result) for result in results])


def compare_json(results: list[BenchResult]) -> dict:
    from engine.bench_table import ratios

    pp, tg = ratios(*results)
    return {"results": [result.to_dict() for result in results], "ratio": {"pp": pp, "tg": tg}}


def plan_of(args: argparse.Namespace) -> BenchPlan:
    from engine.bench import BenchPlan

    return BenchPlan(args.prompt_tokens, args.gen_tokens, args.repeat)


def run_compare(args: argparse.Namespace) -> int:
    from engine.bench_compare import compare_one_at_a_time, gguf_to_compare, mlx_side
    from engine.generation import Engine

    gguf = gguf_to_compare(args.model)
    with mlx_side(gguf) as mlx:
        print(mlx.note, file=sys.stderr)
        engine = Engine(upcast_on_cpu=not args.keep_dtype, kv_bits=args.kv_bits)
        try:
            results = compare_one_at_a_time(engine, [gguf, mlx.info], plan_of(args), args.allow_oversize)
        finally:
            engine.shutdown()
    print(json.dumps(compare_json(results), indent=2) if args.json else full_report(results))
    return 0


def run(args: argparse.Namespace) -> int:
    if args.compare:
        return run_compare(args)
    from engine.bench import start_bench

    with loaded_engine(args) as engine:
        result = start_bench(engine, plan_of(args)).result()
        speculative = speculative_bench(engine, args.gen_tokens) if args.draft_model else None
    if args.json:
        extra = {"speculative": speculative.to_dict()} if speculative else {}
        print(json.dumps(result.to_dict() | extra, indent=2))
    else:
        print(full_report([result]) + (f"\n{speculative.describe()}" if speculative else ""))
    return 0


def speculative_bench(engine: Engine, tokens: int) -> SpeculativeResult | None:
    """The model with its draft and without it (engine/bench_speculative.py); None when it runs without one."""
    from engine.bench_speculative import measure

    if engine.draft_name is None:
        return None
    return engine.run_with_backend(lambda backend: measure(backend, tokens)).result()
