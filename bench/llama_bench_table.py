"""`cabin bench` on a GGUF against raw llama-cpp-python, then `cabin bench --compare` (llama.cpp vs MLX), same file.

Part 1, same process: Cabin's bench (engine/bench_llamacpp.py on the engine's worker, `start_bench`) and raw
llama-cpp-python (its own `eval` for pp, its own `generate` loop for tg, timed from the first token to the last),
alternating, each repeat one pp and one tg test; the same thread counts (read from the engine's context). Goal:
ratio ≥ 0.95. Part 2: the `cabin bench --compare` command as a user runs it, its table printed as is.

    .venv/bin/python bench/llama_bench_table.py [--model FILE.gguf] [-p 512] [-n 128] [--repeat 3]
"""

from __future__ import annotations

import argparse
import random
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from llama_cpp import Llama  # noqa: E402

from bench.smollm2 import installed_gguf  # noqa: E402
from engine.bench import BenchPlan, start_bench  # noqa: E402
from engine.generation import Engine  # noqa: E402


def raw_pp(llama: Llama, tokens: int) -> float:
    prompt = [random.Random(1).randrange(llama.n_vocab()) for _ in range(tokens)]
    llama.reset()
    started = time.perf_counter()
    llama.eval(prompt)
    llama.sample(temp=0.0)
    return tokens / (time.perf_counter() - started)


def raw_tg(llama: Llama, tokens: int) -> float:
    llama.reset()
    times = []
    for _ in llama.generate([llama.token_bos()], temp=0.0, repeat_penalty=1.0):
        times.append(time.perf_counter())
        if len(times) == tokens + 1:
            break
    return tokens / (times[-1] - times[0])


def cabin_vs_raw(model: Path, args: argparse.Namespace) -> None:
    engine = Engine()
    engine.load(model).result()
    threads, prompt_threads = engine.run_with_backend(lambda b: (b.model.n_threads, b.model.n_threads_batch)).result()
    llama = Llama(model_path=str(model), n_ctx=4096, n_batch=512, n_threads=threads, n_threads_batch=prompt_threads,
                  logits_all=False, verbose=False)  # fmt: skip
    raw_pp(llama, 16), raw_tg(llama, 4)
    one = BenchPlan(args.prompt_tokens, args.gen_tokens, 1)
    cabin_pp, cabin_tg, pp, tg = [], [], [], []
    for _ in range(args.repeat):
        result = start_bench(engine, one).result()
        cabin_pp.append(result.pp_samples[0])
        cabin_tg.append(result.tg_samples[0])
        pp.append(raw_pp(llama, args.prompt_tokens))
        tg.append(raw_tg(llama, args.gen_tokens))
    engine.shutdown()
    llama.close()
    print(f"{model.name}: {threads} decode / {prompt_threads} prompt threads, median of {args.repeat}")
    print(f"{'':8}{'llama-cpp-python':>18}{'cabin bench':>13}{'ratio':>8}")
    for label, raw, ours in ((f"pp{args.prompt_tokens}", pp, cabin_pp), (f"tg{args.gen_tokens}", tg, cabin_tg)):
        r, c = statistics.median(raw), statistics.median(ours)
        print(f"{label:8}{r:18.1f}{c:13.1f}{c / r:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=installed_gguf())
    parser.add_argument("-p", "--prompt-tokens", type=int, default=512)
    parser.add_argument("-n", "--gen-tokens", type=int, default=128)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    cabin_vs_raw(args.model, args)
    print()
    command = [sys.executable, "-m", "cabin", "bench", "--model", str(args.model), "--compare",
               "-p", str(args.prompt_tokens), "-n", str(args.gen_tokens), "--repeat", str(args.repeat)]  # fmt: skip
    started = time.perf_counter()
    completed = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    print(f"$ cabin bench --model {args.model.name} --compare -p {args.prompt_tokens} -n {args.gen_tokens} "
          f"--repeat {args.repeat}   ({time.perf_counter() - started:.0f} s)")  # fmt: skip
    print(completed.stderr.strip())
    print(completed.stdout.split("\n\nmodel ")[0])


if __name__ == "__main__":
    main()
