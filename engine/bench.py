"""`cabin bench`: llama-bench style prompt-processing (pp) and token-generation (tg) speed, with a roofline.

Decode reads every weight once per token, so memory bandwidth / weight bytes is the fastest decode this
machine allows; the achieved fraction says how far from it the engine runs. The bandwidth is measured as STREAM
does (engine/bandwidth.py), and a fraction above 100% is never reported.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import asdict, dataclass
from typing import Any

import mlx.core as mx
from mlx.utils import tree_flatten
from mlx_lm.generate import generate_step
from mlx_lm.models.cache import make_prompt_cache

from engine.bandwidth import memory_bandwidth
from engine.blas import ACTIVE

@dataclass(frozen=True)
class Spread:
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))


@dataclass(frozen=True)
class BenchResult:
    model: str
    dtype: str
    bits: int | None
    device: str
    blas: str
    compute: str
    prompt_tokens: int
    generated_tokens: int
    repeats: int
    pp_tps: Spread
    tg_tps: Spread
    peak_memory: int
    bytes_per_token: int
    bandwidth_gbs: float
    roofline_tps: float
    roofline_fraction: float | None  # None: decode beat the roofline, see roofline_fraction()

    def to_dict(self) -> dict:
        return asdict(self)


def decode_bytes_per_token(model: Any) -> int:
    """Bytes of weights read to decode one token: all of them, except an untied embedding table (one row)."""
    params = dict(tree_flatten(model.parameters()))
    total = sum(v.nbytes for v in params.values())
    untied = any(k.startswith("lm_head") for k in params)
    embedding = sum(v.nbytes for k, v in params.items() if "embed_tokens" in k) if untied else 0
    return total - embedding


def roofline_fraction(tps: float, roofline_tps: float) -> float | None:
    """The share of the roofline reached; None when decode beat it. A share above 100% of a physical limit
    is a measuring error, not a result: it proves the bandwidth figure is only a lower bound."""
    fraction = tps / roofline_tps
    return fraction if fraction <= 1 else None


def describe_fraction(fraction: float | None) -> str:
    if fraction is None:
        return "achieved more than that: the bandwidth figure is a lower bound on this machine"
    return f"achieved {fraction:.1%}"


def weights_dtype(model: Any) -> str:
    dtypes = {str(v.dtype).removeprefix("mlx.core.") for k, v in tree_flatten(model.parameters()) if k.endswith("weight")}
    return "/".join(sorted(dtypes))


def time_one_run(model: Any, prompt: mx.array, generate: int) -> tuple[float, float]:
    """(pp tok/s, tg tok/s) for one prefill of `prompt` and `generate` decoded tokens, EOS ignored."""
    cache = make_prompt_cache(model)
    start = time.perf_counter()
    steps = generate_step(prompt, model, max_tokens=generate, prompt_cache=cache)
    next(steps)
    first = time.perf_counter()
    count = sum(1 for _ in steps)
    end = time.perf_counter()
    return prompt.size / (first - start), count / (end - first) if count else 0.0


def run_bench(model: Any, vocab_size: int, prompt_tokens: int, generate: int, repeats: int) -> dict:
    """Call on the engine's worker thread."""
    prompt = mx.random.randint(0, vocab_size, (prompt_tokens,), key=mx.random.key(0))
    time_one_run(model, prompt[:8], 2)
    mx.reset_peak_memory()
    runs = [time_one_run(model, prompt, generate + 1) for _ in range(repeats)]
    tg = Spread.of([r[1] for r in runs])
    peak = mx.get_peak_memory()
    per_token = decode_bytes_per_token(model)
    bandwidth = memory_bandwidth()
    roofline = bandwidth / per_token
    return dict(
        dtype=weights_dtype(model),
        device=str(mx.default_device()),
        prompt_tokens=prompt_tokens,
        generated_tokens=generate,
        repeats=repeats,
        pp_tps=Spread.of([r[0] for r in runs]),
        tg_tps=tg,
        peak_memory=peak,
        bytes_per_token=per_token,
        bandwidth_gbs=bandwidth / 1e9,
        roofline_tps=roofline,
        roofline_fraction=roofline_fraction(tg.median, roofline),
    )


def bench_loaded_model(engine: Any, prompt_tokens: int, generate: int, repeats: int) -> BenchResult:
    """Benchmark the model loaded in `engine`, on its worker thread (a GGUF file: engine/bench_llamacpp.py)."""
    from engine.models.gguf_model import is_gguf_file

    info = engine.model_info
    if is_gguf_file(info.path):
        from engine.bench_llamacpp import run_bench as run_llamacpp_bench
        from engine.models.gguf_info import inspect_gguf

        quant = inspect_gguf(info.path).quant
        figures = engine.run_with_backend(
            lambda backend: run_llamacpp_bench(backend, quant, prompt_tokens, generate, repeats)
        ).result()
        return BenchResult(model=info.name, bits=info.bits, **figures)
    figures = engine.run_with_model(
        lambda model, tokenizer: run_bench(model, tokenizer.vocab_size, prompt_tokens, generate, repeats)
    ).result()
    return BenchResult(model=info.name, bits=info.bits, blas=str(ACTIVE), compute=str(engine.compute_plan), **figures)
