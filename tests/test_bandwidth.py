"""The memory-bandwidth probe behind `cabin bench`'s roofline, and how the roofline share is reported."""

from __future__ import annotations

import numpy as np
import pytest

from engine import bandwidth
from engine.bandwidth import stream_copy_bandwidth, timed_copy
from engine.bench import BenchResult, Spread, describe_fraction, roofline_fraction
from engine.cli.bench import report


def bench_result(tg: float, roofline_tps: float) -> BenchResult:
    return BenchResult(
        model="m", dtype="float32", bits=None, device="cpu", blas="openblas", compute="float32", prompt_tokens=16,
        generated_tokens=4, repeats=1, pp_tps=Spread(100, 100, 100), tg_tps=Spread(tg, tg, tg), peak_memory=2**20,
        bytes_per_token=10**8, bandwidth_gbs=roofline_tps / 10, roofline_tps=roofline_tps,
        roofline_fraction=roofline_fraction(tg, roofline_tps),
    )


def test_the_threads_of_a_copy_cover_the_whole_buffer() -> None:
    source = np.arange(1_000_003, dtype=np.float64)
    target = np.zeros_like(source)
    assert timed_copy(source, target, threads=3) > 0
    np.testing.assert_array_equal(target, source)


def test_bandwidth_is_bytes_read_and_written_in_the_best_round(monkeypatch: pytest.MonkeyPatch) -> None:
    rounds = iter([0.5, 0.25, 1.0])
    monkeypatch.setattr(bandwidth, "timed_copy", lambda source, target, threads: next(rounds))
    assert stream_copy_bandwidth(array_bytes=2**20, threads=2, rounds=3) == 2 * 2**20 / 0.25


def test_the_share_of_the_roofline_is_reported_up_to_all_of_it() -> None:
    assert roofline_fraction(25.0, 100.0) == 0.25
    assert roofline_fraction(100.0, 100.0) == 1.0


def test_decode_faster_than_the_roofline_is_no_share_but_a_lower_bound() -> None:
    assert roofline_fraction(162.0, 100.0) is None
    assert describe_fraction(None) == "achieved more than that: the bandwidth figure is a lower bound on this machine"


def test_the_bench_report_never_prints_more_than_100_percent() -> None:
    roofline_line = report(bench_result(tg=162.0, roofline_tps=100.0)).splitlines()[-1]
    assert "lower bound" in roofline_line and "%" not in roofline_line
    assert report(bench_result(tg=40.0, roofline_tps=100.0)).endswith("achieved 40.0%")
