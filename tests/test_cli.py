"""The `cabin` command line, run as a user runs it."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

CABIN = [sys.executable, "-m", "cabin"]
STATS_LINE = (
    r"\d+ tokens at [\d.]+ tok/s · prompt \d+ tokens \(\d+ cached\) at [\d.]+ tok/s · "
    r"TTFT \d+ ms · peak memory [\d.]+ [KMG]?B · (stop|length)"
)


def cabin(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([*CABIN, *args], input=stdin, capture_output=True, text=True, timeout=120, env=os.environ | {"PYTHONUNBUFFERED": "1"})


def test_version() -> None:
    result = cabin("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("cabin ")


def test_chat_with_a_prompt_streams_the_answer_and_prints_stats(llama_model: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--prompt", "Hello", "--max-tokens", "8", "--temp", "0")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip()
    assert re.fullmatch(STATS_LINE, result.stderr.strip())


def prompt_tokens(result: subprocess.CompletedProcess) -> int:
    return int(re.search(r"prompt (\d+) tokens", result.stderr).group(1))


def test_chat_reads_attached_files_into_the_question(llama_model: Path, tmp_path: Path, report_pdf: Path) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Plan\n\n" + "- ship it\n" * 20)
    ask = ("chat", "--model", str(llama_model), "--prompt", "Summarize.", "--max-tokens", "2", "--temp", "0")
    bare, attached = cabin(*ask), cabin(*ask, "--file", str(notes), "--file", str(report_pdf))
    assert attached.returncode == 0, attached.stderr
    assert prompt_tokens(attached) > prompt_tokens(bare) + 40


def test_chat_with_a_file_it_cannot_read_is_one_line_and_exit_1(llama_model: Path, locked_pdf: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--prompt", "Hi", "--file", str(locked_pdf))
    assert result.returncode == 1
    assert result.stderr == "cabin: error: locked.pdf is encrypted: save an unlocked copy and attach that.\n"


def test_chat_with_a_missing_model_is_one_line_and_exit_1(tmp_path: Path) -> None:
    result = cabin("chat", "--model", str(tmp_path / "absent"), "--prompt", "Hello")
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("cabin: error: no model at")


def test_chat_with_a_broken_model_folder_is_one_line_and_exit_1(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text("{}")
    result = cabin("chat", "--model", str(tmp_path), "--prompt", "Hello")
    assert result.returncode == 1
    assert result.stderr == f"cabin: error: {tmp_path}/config.json names no model_type\n"


def test_chat_refuses_an_invalid_setting_in_one_line(llama_model: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--prompt", "Hi", "--top-p", "0")
    assert result.returncode == 1
    assert result.stderr == "cabin: error: top_p must be in (0, 1]\n"


def test_interactive_chat_reuses_the_cache_across_turns(llama_model: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--max-tokens", "4", "--temp", "0", stdin="Hello\nAgain\n/quit\n")
    assert result.returncode == 0, result.stderr
    stats = [line for line in result.stderr.splitlines() if "tok/s" in line]
    assert len(stats) == 2
    assert "(0 cached)" in stats[0] and "(0 cached)" not in stats[1]


def test_interactive_reset_starts_a_new_conversation(llama_model: Path) -> None:
    result = cabin("chat", "--model", str(llama_model), "--max-tokens", "4", "--temp", "0", stdin="Hello\n/reset\nHello\n")
    assert result.returncode == 0, result.stderr
    stats = [line for line in result.stderr.splitlines() if "tok/s" in line]
    prompts = [re.search(r"prompt \d+ tokens \(\d+ cached\)", line).group() for line in stats]
    assert prompts[0] == prompts[1]


def test_bench_prints_json_with_pp_tg_and_roofline(llama_model: Path) -> None:
    result = cabin("bench", "--model", str(llama_model), "-p", "32", "-n", "8", "--repeat", "2", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["prompt_tokens"] == 32 and report["generated_tokens"] == 8 and report["repeats"] == 2
    assert 0 < report["pp_tps"]["min"] <= report["pp_tps"]["median"] <= report["pp_tps"]["max"]
    assert 0 < report["tg_tps"]["min"] <= report["tg_tps"]["median"] <= report["tg_tps"]["max"]
    assert report["dtype"] == "float32" and report["bandwidth_gbs"] > 0 and report["roofline_fraction"] > 0


def test_bench_text_report(llama_4bit_model: Path) -> None:
    result = cabin("bench", "--model", str(llama_4bit_model), "-p", "16", "-n", "4", "--repeat", "1")
    assert result.returncode == 0, result.stderr
    assert "4-bit" in result.stdout and "pp16:" in result.stdout and "tg4:" in result.stdout and "roofline" in result.stdout


@pytest.mark.parametrize("args", [["chat"], ["bench", "--model", "x", "-n", "0"]])
def test_bad_arguments_exit_non_zero(args: list[str]) -> None:
    assert cabin(*args).returncode == 2
