"""`cabin bench` on llama.cpp: llama-bench's pp and tg tests (engine/bench.py) on llama-cpp-python's context,
driven directly as llama-bench drives llama.cpp's: a random prompt (BOS first when the model adds one), greedy
tokens, EOS ignored. The conversation holding the context is saved first and comes back when it next answers.
Worker thread."""

from __future__ import annotations

import random
import threading
import time
from typing import TYPE_CHECKING, Any

from engine.bench import BenchPlan, check_stop, parameter_label, shared_figures
from engine.errors import ModelError

if TYPE_CHECKING:
    from engine.backends.llamacpp import LlamaCppBackend
    from engine.models.folder import ModelInfo


def greedy_sampler() -> Any:
    from llama_cpp._internals import LlamaSampler

    greedy = LlamaSampler()
    greedy.add_greedy()
    return greedy


def time_pp(llama: Any, prompt: list[int]) -> float:
    """tok/s of one prefill of `prompt` into an empty context, to its first sampled token."""
    greedy = greedy_sampler()
    llama.reset()
    start = time.perf_counter()
    llama.eval(prompt)
    greedy.sample(llama._ctx, -1)
    seconds = time.perf_counter() - start
    greedy.close()
    return len(prompt) / seconds


def time_tg(llama: Any, first: int, generate: int, stop: threading.Event | None = None) -> float:
    """tok/s of `generate` one-token decodes from an empty context, starting from `first`, each next token greedy."""
    greedy = greedy_sampler()
    llama.reset()
    token = first
    start = time.perf_counter()
    for _ in range(generate):
        check_stop(stop)
        llama.eval([token])
        token = greedy.sample(llama._ctx, -1)
    seconds = time.perf_counter() - start
    greedy.close()
    return generate / seconds


def random_prompt(llama: Any, tokens: int) -> list[int]:
    ids = [random.Random(0).randrange(llama.n_vocab()) for _ in range(tokens)]
    if llama._model.add_bos_token():
        ids[0] = llama.token_bos()
    return ids


def measure(backend: LlamaCppBackend, info: ModelInfo, plan: BenchPlan, stop: threading.Event | None) -> dict[str, Any]:
    from llama_cpp import llama_supports_gpu_offload

    from engine.models.gguf_info import inspect_gguf

    longest = max(plan.prompt_tokens, plan.generate)
    if backend.context_limit is not None and longest > backend.context_limit:
        raise ModelError(f"a {longest}-token test does not fit in the {backend.context_limit}-token context "
                         "llama.cpp allocated: load the model with a longer context")  # fmt: skip
    llama = backend.model
    prompt = random_prompt(llama, plan.prompt_tokens)
    time_pp(llama, prompt[:8])
    time_tg(llama, prompt[0], 2)
    backend.reset_peak_memory()
    pp, tg = [], []
    for _ in range(plan.repeats):
        check_stop(stop)
        pp.append(time_pp(llama, prompt))
        tg.append(time_tg(llama, prompt[0], plan.generate, stop))
    llama.reset()
    quant = inspect_gguf(info.path).quant
    gpu = llama_supports_gpu_offload()
    return dict(
        dtype=quant,
        device=f"llama.cpp, {llama.n_threads} threads ({llama.n_threads_batch} for prompts)",
        blas="ggml",
        compute="as stored in the GGUF file",
        peak_memory=backend.memory().peak,
        description=f"{info.model_type} {parameter_label(info.parameters)} {quant}",
        backend="llama.cpp GPU" if gpu else "llama.cpp CPU",
        size_bytes=backend.resident_weight_bytes,
        prompt_threads=None if gpu else llama.n_threads_batch,
        decode_threads=None if gpu else llama.n_threads,
        **shared_figures(pp, tg, backend.resident_weight_bytes),
    )
