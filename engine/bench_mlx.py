"""`cabin bench` on MLX: llama-bench's pp and tg tests (engine/bench.py) on mlx_lm's generate_step, with the
prefill chunk the engine's MLX backend uses. A random prompt, greedy tokens, EOS ignored. Worker thread."""

from __future__ import annotations

import os
import sys
import threading
import time
from typing import TYPE_CHECKING, Any

import mlx.core as mx
from mlx.utils import tree_flatten
from mlx_lm.generate import generate_step
from mlx_lm.models.cache import make_prompt_cache

from engine import blas
from engine.backends.mlx import PREFILL_STEP
from engine.bench import BenchPlan, check_stop, parameter_label, shared_figures

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.models.folder import ModelInfo


def decode_bytes_per_token(model: Any) -> int:
    """Bytes of weights read to decode one token: all of them, except an untied embedding table (one row)."""
    params = dict(tree_flatten(model.parameters()))
    total = sum(v.nbytes for v in params.values())
    untied = any(k.startswith("lm_head") for k in params)
    embedding = sum(v.nbytes for k, v in params.items() if "embed_tokens" in k) if untied else 0
    return total - embedding


def weight_bytes(model: Any) -> int:
    return sum(v.nbytes for _, v in tree_flatten(model.parameters()))


def weights_dtype(model: Any) -> str:
    dtypes = {str(v.dtype).removeprefix("mlx.core.") for k, v in tree_flatten(model.parameters()) if k.endswith("weight")}
    return "/".join(sorted(dtypes))


def time_pp(model: Any, prompt: mx.array, cache: list[Any] | None = None) -> float:
    """tok/s of one prefill of `prompt` into an empty cache (`cache`, else the model's own), to its first sampled token."""
    steps = generate_step(prompt, model, max_tokens=1, prompt_cache=cache or make_prompt_cache(model),
                          prefill_step_size=PREFILL_STEP)  # fmt: skip
    start = time.perf_counter()
    next(steps)
    return prompt.size / (time.perf_counter() - start)


def time_tg(
    model: Any, first: mx.array, generate: int, stop: threading.Event | None = None, cache: list[Any] | None = None
) -> float:
    """tok/s of `generate` one-token decodes from an empty cache (`cache`, else the model's own), from the token in `first`."""
    steps = generate_step(first, model, max_tokens=generate, prompt_cache=cache or make_prompt_cache(model))
    start = time.perf_counter()
    for _ in steps:
        check_stop(stop)
    return generate / (time.perf_counter() - start)


def cpu_threads() -> int | None:
    """Threads of MLX's CPU matmuls (the BLAS's), None when Metal computes."""
    if sys.platform == "darwin":
        return None
    if blas.ACTIVE.name.startswith("OpenBLAS"):
        return int(os.environ.get("OPENBLAS_NUM_THREADS") or blas.default_threads())
    return 1


def quant_label(info: ModelInfo, backend: Backend) -> str:
    stored = f"{info.bits}-bit" if info.bits else weights_dtype(backend.model)
    plan = backend.compute_plan
    label = f"{stored} as float32" if plan is not None and plan.upcast else stored
    return f"{label}, {backend.kv_bits}-bit KV" if backend.kv_bits else label


def measure(backend: Backend, info: ModelInfo, plan: BenchPlan, stop: threading.Event | None) -> dict[str, Any]:
    model = backend.model
    prompt = mx.random.randint(0, backend.tokenizer.vocab_size, (plan.prompt_tokens,), key=mx.random.key(0))
    time_pp(model, prompt[:8])
    time_tg(model, prompt[:1], 2)
    backend.reset_peak_memory()
    pp, tg = [], []
    for _ in range(plan.repeats):
        check_stop(stop)
        pp.append(time_pp(model, prompt, backend.target_cache(backend.new_cache())))
        tg.append(time_tg(model, prompt[:1], plan.generate, stop, backend.target_cache(backend.new_cache())))
    threads = cpu_threads()
    return dict(
        dtype=weights_dtype(model),
        device=str(mx.default_device()),
        blas=str(blas.ACTIVE),
        compute=str(backend.compute_plan),
        peak_memory=backend.memory().peak,
        description=f"{info.model_type} {parameter_label(info.parameters)} {quant_label(info, backend)}",
        backend=f"MLX {mx.default_device().type.name}",
        size_bytes=weight_bytes(model),
        prompt_threads=threads,
        decode_threads=threads,
        **shared_figures(pp, tg, decode_bytes_per_token(model)),
    )
