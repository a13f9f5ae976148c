"""Cabin's engine on a GGUF file (the llama.cpp backend) against raw llama-cpp-python, same file, same run.

pp512: prompt tok/s over a 512-token prompt (to the first sampled token). tg128: decode tok/s over 128 greedy
tokens, timed from the first token to the last as the caller sees them (for Cabin: the engine's Token events
on this thread, so the worker thread, event queue and detokenizer are included). Goal: ratio ≥ 0.95.

Raw llama-cpp-python gets the engine's thread counts (decode and prompt), read from the engine's own context.

    .venv/bin/python bench/llamacpp_vs_raw.py [--model FILE.gguf] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from llama_cpp import Llama  # noqa: E402

from bench.smollm2 import installed_gguf  # noqa: E402
from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.generation.events import Token  # noqa: E402

STORY = "Here is a long story about a lighthouse keeper who finds a map.\n\nOnce upon a time,"
FILLER = "The quick brown fox jumps over the lazy dog while the sea keeps rolling under a grey northern sky. "


def prompt_of(llama: Llama, tokens: int, tag: int) -> str:
    """Text of about `tokens` tokens, starting differently each time so that no prompt cache can serve it."""
    text = f"Run {tag}. " + FILLER * (tokens // 10)
    return llama.detokenize(llama.tokenize(text.encode(), add_bos=False)[:tokens]).decode()


def raw_pp(llama: Llama, text: str) -> tuple[int, float]:
    ids = llama.tokenize(text.encode(), add_bos=False, special=True)
    llama.reset()
    started = time.perf_counter()
    llama.eval(ids)
    llama.sample(temp=0.0)
    return len(ids), len(ids) / (time.perf_counter() - started)


def cabin_pp(engine: Engine, text: str, tag: int) -> tuple[int, float]:
    stats = engine.complete(text, SamplingSettings(temperature=0, max_tokens=1), f"pp-{tag}").result().stats
    return stats.prompt_tokens, stats.prompt_tps


def raw_tg(llama: Llama, text: str, n: int) -> float:
    ids = llama.tokenize(text.encode(), add_bos=False, special=True)
    llama.reset()
    times = []
    for token in llama.generate(ids, temp=0.0, repeat_penalty=1.0):
        times.append(time.perf_counter())
        if len(times) == n:
            break
    return (len(times) - 1) / (times[-1] - times[0])


def cabin_tg(engine: Engine, text: str, tag: int) -> tuple[int, float]:
    generation = engine.complete(text, SamplingSettings(temperature=0, max_tokens=128), f"tg-{tag}")
    times = [time.perf_counter() for event in generation if isinstance(event, Token)]
    return len(times), (len(times) - 1) / (times[-1] - times[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=installed_gguf())
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    engine = Engine()
    engine.load(args.model).result()
    threads, prompt_threads = engine.run_with_backend(lambda b: (b.model.n_threads, b.model.n_threads_batch)).result()
    llama = Llama(model_path=str(args.model), n_ctx=8192, n_batch=512, n_threads=threads,
                  n_threads_batch=prompt_threads, logits_all=False, verbose=False)  # fmt: skip
    cabin_pp(engine, prompt_of(llama, 64, -1), -1)  # warm both up
    raw_pp(llama, prompt_of(llama, 64, -1))
    pp_raw, pp_cabin, tg_raw, tg_cabin = [], [], [], []
    for i in range(args.repeat):
        text = prompt_of(llama, 512, i)
        n_cabin, tps = cabin_pp(engine, text, i)
        pp_cabin.append(tps)
        n_raw, tps = raw_pp(llama, text)
        pp_raw.append(tps)
        n, tps = cabin_tg(engine, STORY, i)
        tg_cabin.append(tps)
        tg_raw.append(raw_tg(llama, STORY, n))
    engine.shutdown()
    llama.close()

    print(f"model: {args.model.name}, {threads} decode / {prompt_threads} prompt threads, prompt {n_cabin} tokens (raw {n_raw}), "
          f"{n} generated tokens, median of {args.repeat}")  # fmt: skip
    print(f"{'':8}{'llama-cpp-python':>18}{'cabin':>10}{'ratio':>8}")
    for label, raw, ours in (("pp512", pp_raw, pp_cabin), ("tg128", tg_raw, tg_cabin)):
        r, c = statistics.median(raw), statistics.median(ours)
        print(f"{label:8}{r:18.1f}{c:10.1f}{c / r:8.3f}")


if __name__ == "__main__":
    main()
