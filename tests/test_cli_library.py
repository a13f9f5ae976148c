"""`cabin library` and `cabin chat --library`, run as a user runs them (each test with its own data folder)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SMOLLM2_SYSTEM = "You are a helpful AI assistant."


@pytest.fixture
def cabin(tmp_path: Path):
    env = os.environ | {"PYTHONUNBUFFERED": "1", "CABIN_DATA_DIR": str(tmp_path / "data")}

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "cabin", *args], capture_output=True, text=True, timeout=300,
                              env=env)  # fmt: skip

    return run


def test_add_indexes_a_folder_and_lists_the_files_it_could_not_read(cabin, handbook, tiny_encoder) -> None:
    (handbook / "scan.txt").write_bytes(b"\x00\x00binary")
    result = cabin("library", "add", "handbook", str(handbook), "--embedding-model", str(tiny_encoder))
    assert result.returncode == 0, result.stderr
    assert f"  skipped  {handbook / 'scan.txt'}  — scan.txt is not a text file" in result.stdout
    assert result.stdout.rstrip().endswith("handbook: 3 files indexed (3 chunks), 1 not indexed, 0 waiting")
    assert "indexed 4 files: 3 new chunks" in result.stderr
    listed = cabin("library", "list")
    assert listed.stdout.startswith("handbook\t3 files indexed\t3 chunks\t1 not indexed\t0 waiting\t")


def test_without_an_embedding_model_add_is_one_line_and_exit_1(cabin, handbook) -> None:
    result = cabin("library", "add", "handbook", str(handbook))
    assert result.returncode == 1
    assert result.stderr == ("cabin: error: no embedding model yet: download one with `cabin models pull "
                             "sentence-transformers/all-MiniLM-L6-v2` (or name a folder with --embedding-model)\n")  # fmt: skip


def test_removing_a_folder_takes_its_files_out(cabin, handbook, tiny_encoder, report_pdf) -> None:
    cabin("library", "add", "docs", str(handbook), str(report_pdf), "--embedding-model", str(tiny_encoder))
    result = cabin("library", "remove", "docs", str(handbook))
    assert result.returncode == 0, result.stderr
    assert result.stdout.rstrip().endswith("docs: 1 files indexed (2 chunks), 0 not indexed, 0 waiting")
    assert cabin("library", "remove", "docs").returncode == 0
    assert cabin("library", "list", "docs").stderr == "cabin: error: no library named 'docs' (libraries: none yet)\n"


def test_chat_with_an_unknown_library_is_one_line_and_exit_1(cabin, llama_model) -> None:
    result = cabin("chat", "--model", str(llama_model), "--library", "nope", "--prompt", "Hi")
    assert result.returncode == 1
    assert result.stderr.endswith("cabin: error: no library named 'nope' (libraries: none yet)\n")


def test_smollm2_answers_from_the_library_and_names_its_sources(cabin, handbook, minilm_encoder, smollm2_gguf) -> None:
    """The two prose documents only: with a code excerpt among three, SmolLM2-135M (greedy) answers "1. 1. 1." —
    a 135M model's limit, not retrieval's (the right excerpt still ranks first)."""
    prose = [str(handbook / "leave.md"), str(handbook / "expenses.md")]
    assert cabin("library", "add", "handbook", *prose, "--embedding-model", str(minilm_encoder)).returncode == 0
    result = cabin("chat", "--model", str(smollm2_gguf), "--library", "handbook", "--system", SMOLLM2_SYSTEM,
                   "--temp", "0", "--max-tokens", "40", "--prompt", "How many days of paid holiday do employees get?")  # fmt: skip
    assert result.returncode == 0, result.stderr
    answer, sources = result.stdout.split("Sources:\n")
    assert "27" in answer
    assert sources.splitlines()[0] == f"[1] leave.md — {handbook / 'leave.md'}"
