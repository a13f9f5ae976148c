"""`cabin export-onnx` and its child process: refusals, cancel, nothing half-written (on the tiny random llama)."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli import main
from engine.coreml.staging import PARTIAL_MARK
from engine.jobs import JobCancelled, JobFailed, JobFinished, JobProgress
from engine.onnx.options import OnnxExportOptions
from engine.onnx.process import start_onnx_export


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if PARTIAL_MARK in p.name or ".old-" in p.name)


def test_exports_fp32_from_the_command_line_and_checks_it(llama_model: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture) -> None:  # fmt: skip
    out = tmp_path / "export"
    assert main(["export-onnx", "--model", str(llama_model), "--out", str(out), "--precision", "fp32",
                 "--context", "128"]) == 0  # fmt: skip
    captured = capsys.readouterr()
    assert "Exported tiny-llama (fp32) to" in captured.out and "first 32 of 32 tokens the same" in captured.out
    assert "[100%] Done" in captured.err
    assert (out / "genai_config.json").is_file() and leftovers(tmp_path) == []


def test_refuses_to_overwrite_without_being_asked(llama_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    assert main(["export-onnx", "--model", str(llama_model), "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err.strip()
    assert err == f"cabin: error: {tmp_path} already exists; choose another folder or allow overwriting"
    assert (tmp_path / "keep.txt").read_text() == "mine"


def test_a_model_that_cannot_be_exported_fails_with_one_line_and_leaves_nothing(tmp_path: Path) -> None:
    job = start_onnx_export(OnnxExportOptions(model=str(tmp_path / "absent"), out=tmp_path / "out"))
    result = job.wait(timeout=120)
    assert isinstance(result, JobFailed) and "no model at" in result.message and "\n" not in result.message
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_cancel_stops_the_export_and_removes_its_partial_folder(llama_model: Path, tmp_path: Path) -> None:
    job = start_onnx_export(OnnxExportOptions(model=str(llama_model), out=tmp_path / "out", precision="fp32",
                                              context=128))  # fmt: skip
    assert isinstance(next(iter(job)), JobProgress)
    job.cancel()
    assert isinstance(job.result, JobCancelled)
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_an_unknown_precision_is_one_line(llama_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["export-onnx", "--model", str(llama_model), "--out", str(tmp_path / "o"), "--precision", "int3"])
    assert exit_.value.code == 2 and "invalid choice: 'int3'" in capsys.readouterr().err


def test_an_int4_export_below_the_agreement_goal_fails_and_leaves_nothing(llama_model: Path, tmp_path: Path) -> None:
    """The random tiny llama's logits are nearly flat: re-rounding its float weights to 4 bits moves ~15% of
    its top tokens, so the check refuses the export."""
    job = start_onnx_export(OnnxExportOptions(model=str(llama_model), out=tmp_path / "out", context=128))
    result = job.wait(timeout=600)
    assert isinstance(result, JobFailed) and "below the 95% goal" in result.message and "\n" not in result.message
    assert not (tmp_path / "out").exists() and leftovers(tmp_path) == []


def test_an_unsupported_architecture_is_named_as_an_onnx_refusal(tmp_path: Path, llama_model: Path) -> None:
    import json
    import shutil

    model = tmp_path / "starcoder"
    shutil.copytree(llama_model, model)
    config = json.loads((model / "config.json").read_text())
    (model / "config.json").write_text(json.dumps({**config, "model_type": "starcoder2"}))
    result = start_onnx_export(OnnxExportOptions(model=str(model), out=tmp_path / "out")).wait(timeout=120)
    assert isinstance(result, JobFailed) and "ONNX export supports llama, qwen2" in result.message


def test_an_mlx_4bit_model_exports_int4_with_its_own_blocks(llama_4bit_model: Path, tmp_path: Path) -> None:
    """The same random tiny llama, quantized by MLX: no second rounding, so the int4 check holds."""
    job = start_onnx_export(OnnxExportOptions(model=str(llama_4bit_model), out=tmp_path / "out", context=128))
    result = job.wait(timeout=600)
    assert isinstance(result, JobFinished), getattr(result, "message", "")
    assert result.result.mapped_layers > 0 and result.result.requantized_layers == []
    assert result.result.greedy_same_prefix == result.result.greedy_tokens
