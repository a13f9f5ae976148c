"""`cabin bench`'s llama-bench table and `--compare`, on the real SmolLM2 GGUF (llama.cpp) and its MLX import.

Short runs (-p 32 -n 8 --repeat 2): these tests check the table's shape and what it reports, never a speed."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from engine.bench import BenchPlan, BenchResult, Spread, start_bench
from engine.bench_table import table
from engine.errors import CancelledByUser
from engine.generation import Engine, SamplingSettings
from engine.messages import system, user
from tests.test_cli import cabin

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

SHORT = ("-p", "32", "-n", "8", "--repeat", "2")
TPS = re.compile(r"\d+\.\d\d ± \d+\.\d\d")
COLUMNS = ["model", "size", "params", "backend", "threads", "test", "t/s"]


def table_rows(stdout: str) -> list[list[str]]:
    """The cells of the markdown table at the top of `cabin bench`'s output, header and rule included."""
    lines = [line for line in stdout.split("\n\n")[0].splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]


def result_with(pp: tuple[float, ...], tg: tuple[float, ...]) -> BenchResult:
    return BenchResult(
        model="m", dtype="Q4_1", bits=None, device="cpu", blas="ggml", compute="as stored", prompt_tokens=16,
        generated_tokens=4, repeats=len(pp), pp_tps=Spread.of(list(pp)), tg_tps=Spread.of(list(tg)), peak_memory=0,
        bytes_per_token=1, bandwidth_gbs=1.0, roofline_tps=1.0, roofline_fraction=None, description="llama 135M Q4_1",
        backend="llama.cpp CPU", size_bytes=96_576_768, parameters=134_515_008, prompt_threads=2, decode_threads=1,
        pp_samples=pp, tg_samples=tg,
    )  # fmt: skip


@pytest.fixture
def stored_import(smollm2_model: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The SmolLM2 import where Cabin's importer would have put it, in a private data folder."""
    monkeypatch.setenv("CABIN_DATA_DIR", str(tmp_path / "data"))
    dest = tmp_path / "data" / "models" / "SmolLM2-135M-Instruct.Q4_1"
    shutil.copytree(smollm2_model, dest)
    return dest


@pytest.fixture(scope="module")
def bench_run(smollm2_gguf: Path) -> subprocess.CompletedProcess:
    """One short `cabin bench` of the GGUF, read by several tests."""
    result = cabin("bench", "--model", str(smollm2_gguf), *SHORT)
    assert result.returncode == 0, result.stderr
    return result


def test_the_table_has_llama_benchs_columns_and_one_row_per_test(bench_run: subprocess.CompletedProcess) -> None:
    header, rule, *rows = table_rows(bench_run.stdout)
    assert header == COLUMNS
    assert rule == ["-" * 30, "-" * 9 + ":", "-" * 9 + ":", "-" * 13, "-" * 6 + ":", "-" * 14 + ":", "-" * 19 + ":"]
    assert [row[5] for row in rows] == ["pp32", "tg8"]
    assert all(TPS.fullmatch(row[6]) for row in rows)
    assert rows[0][:4] == ["llama 135M Q4_1", "92.10 MiB", "134.52 M", "llama.cpp CPU"]


def test_t_s_is_the_mean_and_sample_standard_deviation_of_the_repeats() -> None:
    rows = table_rows(table([result_with(pp=(100.0, 110.0, 120.0), tg=(50.0, 50.0, 50.0))]))[2:]
    assert [row[6] for row in rows] == ["110.00 ± 10.00", "50.00 ± 0.00"]
    assert [row[4] for row in rows] == ["2", "1"]  # prompt threads on the pp row, decode threads on the tg row


def test_the_text_report_keeps_the_roofline_under_the_table(bench_run: subprocess.CompletedProcess) -> None:
    assert bench_run.stdout.startswith("| model") and bench_run.stdout.rstrip().splitlines()[-1].startswith("roofline: ")


def test_json_keeps_its_keys_and_adds_the_tables(smollm2_gguf: Path) -> None:
    result = cabin("bench", "--model", str(smollm2_gguf), *SHORT, "--json")
    report = json.loads(result.stdout)
    assert report["pp_tps"]["min"] > 0 and report["roofline_tps"] > 0
    assert len(report["pp_samples"]) == len(report["tg_samples"]) == 2
    assert (report["backend"], report["parameters"], report["decode_threads"]) == ("llama.cpp CPU", 134_515_008, 1)


def test_compare_has_rows_for_both_backends_and_a_ratio_line(smollm2_gguf: Path, stored_import: Path) -> None:
    result = cabin("bench", "--model", str(smollm2_gguf), *SHORT, "--compare")
    assert result.returncode == 0, result.stderr
    rows = table_rows(result.stdout)[2:]
    assert [(row[3], row[5]) for row in rows] == [("llama.cpp CPU", "pp32"), ("llama.cpp CPU", "tg8"),
                                                  ("MLX cpu", "pp32"), ("MLX cpu", "tg8")]  # fmt: skip
    assert re.search(r"^llama\.cpp / MLX: pp32 \d+\.\d\d×, tg8 \d+\.\d\d×$", result.stdout, re.M)
    assert f"the import in Cabin's models: {stored_import}" in result.stderr


def test_compare_without_an_import_makes_a_temporary_one_and_removes_it(smollm2_gguf: Path, tmp_path: Path,
                                                                        monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    result = cabin("bench", "--model", str(smollm2_gguf), *SHORT, "--compare", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [r["backend"] for r in report["results"]] == ["llama.cpp CPU", "MLX cpu"]
    assert report["ratio"]["tg"] > 0 and "made for this comparison" in result.stderr
    assert list(tmp_path.glob("cabin-bench-*")) == []


@pytest.mark.parametrize("target", ["mlx import", "missing file"])
def test_a_bad_compare_target_is_one_line(target: str, smollm2_model: Path, tmp_path: Path) -> None:
    model = smollm2_model if target == "mlx import" else tmp_path / "nothing.gguf"
    result = cabin("bench", "--model", str(model), *SHORT, "--compare")
    assert result.returncode == 1
    assert result.stderr.startswith("cabin: error: ") and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == ""


def test_a_bench_leaves_the_conversation_on_llama_cpp_as_it_was(smollm2_llamacpp: Engine) -> None:
    question = [system("You are a helpful AI assistant."), user("What is the capital of France?")]
    greedy = SamplingSettings(temperature=0, max_tokens=12)
    before = smollm2_llamacpp.chat(question, greedy, "kept").result()
    start_bench(smollm2_llamacpp, BenchPlan(32, 8, 1)).result()
    again = smollm2_llamacpp.chat(question, greedy, "kept").result()
    assert again.stats.cached_tokens > 0 and again.token_ids == before.token_ids


def test_a_set_stop_flag_cancels_the_bench(smollm2_llamacpp: Engine) -> None:
    stop = threading.Event()
    stop.set()
    with pytest.raises(CancelledByUser):
        start_bench(smollm2_llamacpp, BenchPlan(32, 8, 1), stop).result()
