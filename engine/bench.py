"""`cabin bench`: llama-bench's two tests, with a roofline.

pp: prefill a random prompt into an empty cache; tg: decode tokens one at a time from an empty cache (as
llama-bench's `test_prompt` and `test_gen` do). Each test runs `repeats` times after a short warm-up; its
tok/s is reported as mean ± sample standard deviation (llama-bench's table, engine/bench_table.py) and as
median/min/max (the text report).

Decode reads every weight once per token, so memory bandwidth / weight bytes is the fastest decode this
machine allows; the achieved fraction says how far from it the engine runs. The bandwidth is measured as STREAM
does (engine/bandwidth.py), and a fraction above 100% is never reported.

The measuring itself is the backend's: each backend module has a bench module beside it
(engine/bench_mlx.py, engine/bench_llamacpp.py) offering `measure(backend, info, plan, stop) -> dict`, picked
the way engine/backends.load_backend picks the backend. Everything here runs on the engine's worker thread.
"""

from __future__ import annotations

import statistics
import threading
from concurrent.futures import Future
from dataclasses import asdict, dataclass
from types import ModuleType
from typing import TYPE_CHECKING, Any

from engine.errors import CancelledByUser, ModelError

if TYPE_CHECKING:
    from engine.backends.base import Backend
    from engine.models.folder import ModelInfo

BENCH_CONTEXT_MARGIN = 16
"""Tokens of context beyond the longest test, for a model loaded only to be benchmarked."""


@dataclass(frozen=True)
class Spread:
    min: float
    median: float
    max: float

    @classmethod
    def of(cls, values: list[float]) -> Spread:
        return cls(min(values), statistics.median(values), max(values))


@dataclass(frozen=True)
class BenchPlan:
    prompt_tokens: int = 512
    generate: int = 128
    repeats: int = 3


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
    # llama-bench's columns (engine/bench_table.py)
    description: str = ""
    """llama-bench's "model": architecture, size and quantization ("llama 135M Q4_1")."""
    backend: str = ""
    """The runtime and its device ("llama.cpp CPU", "MLX cpu")."""
    size_bytes: int = 0
    """The weights as the backend computes with them (an upcast MLX model's float32 copy, not the file)."""
    parameters: int = 0
    prompt_threads: int | None = None
    decode_threads: int | None = None
    """CPU threads of each test; None where a GPU computes."""
    pp_samples: tuple[float, ...] = ()
    tg_samples: tuple[float, ...] = ()
    """tok/s of each repeat."""

    def to_dict(self) -> dict:
        return asdict(self)


def check_stop(stop: threading.Event | None) -> None:
    if stop is not None and stop.is_set():
        raise CancelledByUser("benchmark cancelled")


def roofline_fraction(tps: float, roofline_tps: float) -> float | None:
    """The share of the roofline reached; None when decode beat it. A share above 100% of a physical limit
    is a measuring error, not a result: it proves the bandwidth figure is only a lower bound."""
    fraction = tps / roofline_tps
    return fraction if fraction <= 1 else None


def describe_fraction(fraction: float | None) -> str:
    if fraction is None:
        return "achieved more than that: the bandwidth figure is a lower bound on this machine"
    return f"achieved {fraction:.1%}"


def parameter_label(parameters: int) -> str:
    """llama.cpp's size label: 135M, 1.5B."""
    if parameters >= 10**9:
        return f"{parameters / 1e9:.1f}B".replace(".0B", "B")
    return f"{round(parameters / 1e6)}M"


def shared_figures(pp: list[float], tg: list[float], per_token: int) -> dict[str, Any]:
    """What every backend reports the same way: the spreads, the samples and the roofline."""
    from engine.bandwidth import memory_bandwidth

    bandwidth = memory_bandwidth()
    roofline = bandwidth / per_token
    spread = Spread.of(tg)
    return dict(
        pp_tps=Spread.of(pp), tg_tps=spread, pp_samples=tuple(pp), tg_samples=tuple(tg), bytes_per_token=per_token,
        bandwidth_gbs=bandwidth / 1e9, roofline_tps=roofline, roofline_fraction=roofline_fraction(spread.median, roofline),
    )  # fmt: skip


def bench_module(info: ModelInfo) -> ModuleType:
    """The bench piece of the backend `info` runs on, chosen as engine/backends.load_backend chooses the backend."""
    from engine.models.gguf_model import is_gguf_file

    if is_gguf_file(info.path):
        from engine import bench_llamacpp

        return bench_llamacpp
    from engine import bench_mlx

    return bench_mlx


def bench_backend(backend: Backend, info: ModelInfo, plan: BenchPlan, stop: threading.Event | None) -> BenchResult:
    """Benchmark a loaded backend. Worker thread."""
    figures = bench_module(info).measure(backend, info, plan, stop)
    return BenchResult(model=info.name, bits=info.bits, parameters=info.parameters, prompt_tokens=plan.prompt_tokens,
                       generated_tokens=plan.generate, repeats=plan.repeats, **figures)  # fmt: skip


def bench_model(info: ModelInfo, plan: BenchPlan, stop: threading.Event | None, upcast_on_cpu: bool) -> BenchResult:
    """Load `info` (after the fit check), benchmark it and free it again, beside whatever the engine holds.
    Worker thread."""
    from engine.backends import load_backend
    from engine.models.loading import refuse_if_too_big

    context = max(plan.prompt_tokens, plan.generate) + BENCH_CONTEXT_MARGIN
    refuse_if_too_big(info, context)
    backend = load_backend(info, context, upcast_on_cpu)
    try:
        return bench_backend(backend, info, plan, stop)
    finally:
        backend.release()


def start_bench(engine: Any, plan: BenchPlan, stop: threading.Event | None = None) -> Future[BenchResult]:
    """Queue a benchmark of the engine's model on its worker: answers asked for meanwhile wait for it."""

    def run(backend: Backend | None) -> BenchResult:
        if backend is None:
            raise ModelError("no model is loaded")
        return bench_backend(backend, engine.model_info, plan, stop)

    return engine.run_with_backend(run)
