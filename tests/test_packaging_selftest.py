"""`cabin --selftest [MODEL]`: the check a release runs on the built app, here run from source."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.selftest import run_check
from cabin.main import main
from engine.device_check import check_mlx, llama_cpp_features

CHECKS = ("window", "mlx", "blas", "llama", "export", "files", "child")


def test_the_selftest_passes_with_a_model_and_exits_0(llama_model: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "cabin", "--selftest", str(llama_model)],
        capture_output=True, text=True, timeout=300, env=os.environ | {"PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].startswith("cabin ") and "from source" in lines[0]
    for name in (*CHECKS, "model"):
        assert any(line.startswith(f"ok   {name}") for line in lines), f"no passing {name} check in:\n{result.stdout}"
    assert "tiny-llama: " in result.stdout and " tokens at " in result.stdout
    assert lines[-1] == "selftest passed"


def test_a_model_that_does_not_load_fails_the_selftest_and_the_other_checks_still_run(qapp, tmp_path: Path, capsys) -> None:
    assert main(["--selftest", str(tmp_path / "absent")]) == 1
    out = capsys.readouterr().out
    assert "FAIL model  ModelError: " in out
    assert all(f"ok   {name}" in out for name in CHECKS)
    assert out.splitlines()[-1] == "selftest FAILED (1 of 8 checks)"


def test_the_selftest_works_in_a_throwaway_folder_and_leaves_the_users_data_alone(qapp, data_dir: Path) -> None:
    before = {path: path.read_bytes() for path in data_dir.iterdir()}
    assert main(["--selftest"]) == 0
    assert {path: path.read_bytes() for path in data_dir.iterdir()} == before


def test_on_a_mac_mlx_must_run_on_the_gpu(engine) -> None:
    with pytest.raises(RuntimeError, match="Metal is not available"):
        check_mlx(engine, platform_name="darwin")


def test_mlx_on_linux_runs_on_the_cpu(engine) -> None:
    assert "on Device(cpu, 0), matmul correct" in check_mlx(engine, platform_name="linux")


def test_a_failing_check_prints_one_line_with_the_error(capsys) -> None:
    def broken() -> str:
        raise ImportError("No module named 'torch'\nTraceback details")

    assert run_check("export", broken) is False
    assert capsys.readouterr().out.startswith("FAIL export ImportError: No module named 'torch' (")


def test_the_llama_check_names_each_llama_cpp_backend_and_its_features() -> None:
    info = "CPU : NEON = 1 | ARM_FMA = 1 | AVX = 0 | Metal : EMBED_LIBRARY = 1 | BLAS : ACCELERATE = 1 | "
    assert llama_cpp_features(info) == "CPU: NEON ARM_FMA; Metal: EMBED_LIBRARY; BLAS: ACCELERATE"
