"""Linux CPU fast path: raw mlx_lm against Cabin on the same 4-bit and bf16 models, in one run.

Each configuration runs in its own process, because the BLAS switch is process-wide: raw mlx_lm with
the reference BLAS its wheel ships and weights as stored; Cabin with OpenBLAS and float32 compute.
Both are timed by the same code (engine.bench_mlx: llama-bench's pp and tg tests).
Decode is compared with the memory-bandwidth roofline of the weights each side actually reads.

    .venv/bin/python bench/cpu_fast_path.py [--hidden 1024] [--layers 12] [-p 128] [-n 16] [--repeat 2]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def worker(mode: str, model_path: str, prompt_tokens: int, generate: int, repeat: int) -> dict:
    """Runs in a child process; prints the figures as JSON."""
    if mode == "raw":
        os.environ["CABIN_BLAS"] = "reference"
    from engine.blas import ACTIVE  # first: the BLAS is chosen before MLX is imported

    import mlx.core as mx
    import mlx_lm

    from engine.bandwidth import memory_bandwidth
    from engine.bench_mlx import decode_bytes_per_token, time_pp, time_tg, weights_dtype
    from engine.compute_dtype import apply_compute_policy, float32_fit
    from engine.models.fit import DEFAULT_CONTEXT, memory_budget
    from engine.models.folder import inspect_model_folder

    model, tokenizer = mlx_lm.load(model_path)
    compute = "as stored"
    if mode == "cabin":
        fit = float32_fit(inspect_model_folder(Path(model_path)), DEFAULT_CONTEXT, memory_budget())
        compute = str(apply_compute_policy(model, fit))
    prompt = mx.random.randint(0, tokenizer.vocab_size, (prompt_tokens,), key=mx.random.key(0))
    time_pp(model, prompt[:8])
    time_tg(model, prompt[:1], 2)
    runs = [(time_pp(model, prompt), time_tg(model, prompt[:1], generate)) for _ in range(repeat)]
    return {
        "blas": ACTIVE.name,
        "compute": compute,
        "weights": weights_dtype(model),
        "pp": statistics.median(r[0] for r in runs),
        "tg": statistics.median(r[1] for r in runs),
        "bytes_per_token": decode_bytes_per_token(model),
        "bandwidth": memory_bandwidth(),
    }


def run_worker(mode: str, model: Path, args: argparse.Namespace) -> dict:
    command = [sys.executable, __file__, "--worker", mode, "--model", str(model),
               "-p", str(args.prompt_tokens), "-n", str(args.gen_tokens), "--repeat", str(args.repeat)]
    return json.loads(subprocess.run(command, capture_output=True, text=True, check=True, cwd=ROOT).stdout)


def build_models(tmp: Path, args: argparse.Namespace) -> dict[str, Path]:
    from tests.model_factory import ModelSpec, build_model

    heads = args.hidden // 64
    shape = dict(hidden_size=args.hidden, num_hidden_layers=args.layers, intermediate_size=args.hidden * 11 // 4,
                 num_attention_heads=heads, num_key_value_heads=max(1, heads // 4))
    return {
        "4-bit": build_model(tmp / "q4", ModelSpec(dtype="bfloat16", bits=4, group_size=64, **shape)),
        "bf16": build_model(tmp / "bf16", ModelSpec(dtype="bfloat16", **shape)),
    }


def parameters(model: Path) -> float:
    import mlx_lm
    from mlx_lm.utils import get_total_parameters

    return get_total_parameters(mlx_lm.load(str(model))[0]) / 1e6


def report(name: str, raw: dict, ours: dict) -> list[str]:
    from engine.bench import roofline_fraction

    lines = []
    for label, figures in (("mlx_lm", raw), ("cabin", ours)):
        roofline = figures["bandwidth"] / figures["bytes_per_token"]
        fraction = roofline_fraction(figures["tg"], roofline)
        lines.append(
            f"{name:6} {label:7} {figures['blas']:16} {figures['weights']:15} {figures['pp']:9.1f} {figures['tg']:8.2f}"
            f" {roofline:9.1f} {'> probe' if fraction is None else f'{fraction:.1%}':>7}"
        )
    lines.append(f"{name:6} {'ratio':7} {'':16} {'':15} {ours['pp'] / raw['pp']:8.1f}x {ours['tg'] / raw['tg']:7.1f}x")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=1024)
    parser.add_argument("--layers", type=int, default=12)
    parser.add_argument("-p", "--prompt-tokens", type=int, default=128)
    parser.add_argument("-n", "--gen-tokens", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--worker", choices=["raw", "cabin"])
    parser.add_argument("--model")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.prompt_tokens, args.gen_tokens, args.repeat)))
        return

    with tempfile.TemporaryDirectory() as tmp:
        models = build_models(Path(tmp), args)
        print(f"random llama, {parameters(models['bf16']):.0f}M parameters; pp{args.prompt_tokens}, tg{args.gen_tokens}, "
              f"median of {args.repeat}")
        print(f"{'model':6} {'engine':7} {'matmuls':16} {'weights':15} {'pp tok/s':>9} {'tg tok/s':>8} "
              f"{'roofline':>9} {'of roof':>7}")
        for name, path in models.items():
            for line in report(name, run_worker("raw", path, args), run_worker("cabin", path, args)):
                print(line)


if __name__ == "__main__":
    main()
