"""llama-bench's markdown table for `cabin bench` results: one row per test (pp, tg) and backend, t/s as
mean ± sample standard deviation over the repeats, columns and widths as llama-bench prints them
(tools/llama-bench: a negative width is left-aligned, a positive one right-aligned with a `:` under it)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.bench import BenchResult

COLUMNS = (("model", -30), ("size", 10), ("params", 10), ("backend", -13), ("threads", 7), ("test", 15), ("t/s", 20))
MIB, GIB = 1024**2, 1024**3


def mean_sd(samples: Sequence[float]) -> tuple[float, float]:
    return statistics.fmean(samples), statistics.stdev(samples) if len(samples) > 1 else 0.0


def tokens_per_second(samples: Sequence[float]) -> str:
    mean, sd = mean_sd(samples)
    return f"{mean:.2f} ± {sd:.2f}"


def size_text(size: int) -> str:
    return f"{size / MIB:.2f} MiB" if size < GIB else f"{size / GIB:.2f} GiB"


def params_text(parameters: int) -> str:
    return f"{parameters / 1e6:.2f} M" if parameters < 10**9 else f"{parameters / 1e9:.2f} B"


def threads_text(threads: int | None) -> str:
    return "-" if threads is None else str(threads)


def line(cells: Sequence[str]) -> str:
    return "|" + "".join(f" {cell:{'<' if width < 0 else '>'}{abs(width)}} |" for cell, (_, width) in zip(cells, COLUMNS))


def header() -> list[str]:
    rule = "|" + "".join(f" {'-' * (abs(width) - 1)}{':' if width > 0 else '-'} |" for _, width in COLUMNS)
    return [line([name for name, _ in COLUMNS]), rule]


def rows(result: BenchResult) -> list[str]:
    model = [result.description or result.model, size_text(result.size_bytes), params_text(result.parameters),
             result.backend or result.device]  # fmt: skip
    return [
        line([*model, threads_text(result.prompt_threads), f"pp{result.prompt_tokens}", tokens_per_second(result.pp_samples)]),
        line([*model, threads_text(result.decode_threads), f"tg{result.generated_tokens}", tokens_per_second(result.tg_samples)]),
    ]  # fmt: skip


def table(results: Sequence[BenchResult]) -> str:
    return "\n".join(header() + [row for result in results for row in rows(result)])


def ratios(numerator: BenchResult, denominator: BenchResult) -> tuple[float, float]:
    """(pp, tg): `numerator`'s mean t/s over `denominator`'s."""
    return (mean_sd(numerator.pp_samples)[0] / mean_sd(denominator.pp_samples)[0],
            mean_sd(numerator.tg_samples)[0] / mean_sd(denominator.tg_samples)[0])  # fmt: skip


def runtime(result: BenchResult) -> str:
    """"llama.cpp", "MLX"."""
    return (result.backend or result.device).split()[0]


def ratio_line(numerator: BenchResult, denominator: BenchResult) -> str:
    pp, tg = ratios(numerator, denominator)
    return (f"{runtime(numerator)} / {runtime(denominator)}: pp{numerator.prompt_tokens} {pp:.2f}×, "
            f"tg{numerator.generated_tokens} {tg:.2f}×")  # fmt: skip
