"""`cabin bench` for a GGUF file on llama.cpp: the same pp/tg figures and roofline as engine/bench.py, measured on
llama-cpp-python's context directly (as the MLX bench runs mlx_lm's generate_step): a random prompt, greedy
tokens, EOS ignored. Call on the engine's worker thread."""

from __future__ import annotations

import random
import time
from typing import Any

from engine.bandwidth import memory_bandwidth
from engine.bench import Spread, roofline_fraction


def time_one_run(llama: Any, prompt: list[int], generate: int) -> tuple[float, float]:
    """(pp tok/s, tg tok/s): prefill `prompt`, sample the first token, then decode `generate` more."""
    from llama_cpp._internals import LlamaSampler

    greedy = LlamaSampler()
    greedy.add_greedy()
    llama.reset()
    start = time.perf_counter()
    llama.eval(prompt)
    token = greedy.sample(llama._ctx, -1)
    first = time.perf_counter()
    for _ in range(generate):
        llama.eval([token])
        token = greedy.sample(llama._ctx, -1)
    end = time.perf_counter()
    greedy.close()
    return len(prompt) / (first - start), generate / (end - first) if generate else 0.0


def run_bench(backend: Any, quant: str, prompt_tokens: int, generate: int, repeats: int) -> dict:
    llama = backend.model
    prompt = [random.Random(0).randrange(llama.n_vocab()) for _ in range(prompt_tokens)]
    time_one_run(llama, prompt[:8], 2)
    backend.reset_peak_memory()
    runs = [time_one_run(llama, prompt, generate) for _ in range(repeats)]
    tg = Spread.of([r[1] for r in runs])
    per_token = backend.resident_weight_bytes
    bandwidth = memory_bandwidth()
    roofline = bandwidth / per_token
    return dict(
        dtype=quant,
        device=f"llama.cpp, {llama.n_threads} threads ({llama.n_threads_batch} for prompts)",
        blas="ggml",
        compute="as stored in the GGUF file",
        prompt_tokens=prompt_tokens,
        generated_tokens=generate,
        repeats=repeats,
        pp_tps=Spread.of([r[0] for r in runs]),
        tg_tps=tg,
        peak_memory=backend.memory().peak,
        bytes_per_token=per_token,
        bandwidth_gbs=bandwidth / 1e9,
        roofline_tps=roofline,
        roofline_fraction=roofline_fraction(tg.median, roofline),
    )
