"""`cabin export-coreml` and the export child process: progress, refusals, cancel, nothing half-written."""

from __future__ import annotations

import re
import time
from dataclasses import replace
from pathlib import Path

import pytest

from engine.cli import main
from engine.coreml.fit import check_fits
from engine.coreml.options import ExportError, ExportOptions
from engine.coreml.process import start_export
from engine.coreml.source import open_source
from engine.coreml.staging import PARTIAL_MARK
from engine.errors import ModelError
from engine.jobs import JobCancelled, JobFailed, JobProgress


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL_MARK in p.name or ".old-" in p.name)


def test_exports_from_the_command_line_replacing_an_old_export(
    llama_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    out = tmp_path / "export"
    out.mkdir()
    (out / "stale.txt").write_text("from an earlier export")
    argv = ["export-coreml", "--model", str(llama_model), "--out", str(out), "--mode", "linear", "--bits", "8",
            "--context", "32", "--overwrite"]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert "Exported tiny-llama to" in captured.out and "same next tokens" in captured.out
    assert "[100%] Done" in captured.err and "Compressing weights" in captured.err
    assert (out / "manifest.json").is_file() and not (out / "stale.txt").exists()
    assert leftovers(tmp_path) == []


def test_refuses_to_overwrite_without_being_asked(llama_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["export-coreml", "--model", str(llama_model), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"cabin: error: {tmp_path} already exists; choose another folder or allow overwriting"
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_a_model_that_cannot_be_exported_fails_with_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    job = start_export(ExportOptions(model=str(tmp_path / "absent"), out=tmp_path / "out"))
    result = job.wait(timeout=120)
    assert isinstance(result, JobFailed) and "no model at" in result.message and "\n" not in result.message
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_cancel_stops_the_export_and_removes_its_partial_folder(llama_model: Path, tmp_path: Path) -> None:
    job = start_export(ExportOptions(model=str(llama_model), out=tmp_path / "out", context=32))
    first = next(iter(job))
    assert isinstance(first, JobProgress)
    job.cancel()
    assert isinstance(job.result, JobCancelled)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_poll_never_blocks_and_ends_with_the_result(tmp_path: Path) -> None:
    job = start_export(ExportOptions(model=str(tmp_path / "absent"), out=tmp_path / "out"))
    events = []
    while not job.done:
        events += job.poll()
        time.sleep(0.05)
    assert isinstance(events[-1], JobFailed)


def test_a_model_too_large_for_memory_is_refused_up_front(llama_model: Path) -> None:
    source = replace(open_source(str(llama_model)), parameters=10**13)
    with pytest.raises(ExportError, match="needs about .* of memory to export"):
        check_fits(source)


def test_an_unsupported_architecture_is_named(tmp_path: Path, llama_model: Path) -> None:
    import json
    import shutil

    other = tmp_path / "starcoder2"
    shutil.copytree(llama_model, other)
    config = json.loads((other / "config.json").read_text())
    (other / "config.json").write_text(json.dumps({**config, "model_type": "starcoder2"}))
    with pytest.raises(ModelError, match="is a starcoder2 model; Core ML export supports llama, qwen2, qwen3, mistral"):
        open_source(str(other))


def test_the_terminal_shows_only_cabins_own_steps(llama_model: Path, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    argv = ["export-coreml", "--model", str(llama_model), "--out", str(tmp_path / "out"), "--mode", "fp16",
            "--context", "32", "--no-verify"]
    assert main(argv) == 0
    lines = capfd.readouterr().err.splitlines()
    assert lines and all(re.fullmatch(r"\[\s*\d+%\] .+", line) for line in lines), lines


def test_verbose_shows_coremltools_own_output(llama_model: Path, tmp_path: Path, capfd: pytest.CaptureFixture) -> None:
    argv = ["export-coreml", "--model", str(llama_model), "--out", str(tmp_path / "out"), "--mode", "fp16",
            "--context", "32", "--no-verify", "--verbose"]
    assert main(argv) == 0
    assert "Converting PyTorch Frontend" in capfd.readouterr().err
