"""The arrows between Cabin's packages, as pyproject.toml's import-linter contracts state them: `cabin` (the
entry point) above `app` (the window) above `engine` (headless); the app reaches MLX only through the engine;
the engine never imports Qt. Function-level imports count as much as module-level ones."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("cabin", "app", "engine")
LINT_IMPORTS = [sys.executable, "-c", "from importlinter.cli import lint_imports_command; lint_imports_command()"]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    return subprocess.run([*LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=root, capture_output=True, text=True, timeout=120)


@pytest.fixture
def source_copy(tmp_path: Path) -> Path:
    """Cabin's packages and pyproject.toml, to be broken on purpose."""
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=shutil.ignore_patterns("__pycache__", "*.so"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    return tmp_path


def test_the_packages_keep_every_contract() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Contracts: 3 kept, 0 broken." in result.stdout


@pytest.mark.parametrize(
    ("module", "code", "contract"),
    [
        ("engine/cli/__init__.py", "from app.main import run_app", "cabin above app above engine"),
        ("engine/errors.py", "import cabin.main", "cabin above app above engine"),
        ("app/paths.py", "from cabin.main import main", "cabin above app above engine"),
        ("app/paths.py", "import mlx.core as mx", "app reaches MLX only through engine"),
        ("app/paths.py", "def generate():\n    from mlx_lm import stream_generate", "app reaches MLX only through engine"),
        ("engine/errors.py", "from PySide6.QtCore import QObject", "engine imports no Qt"),
        ("engine/conversations/store.py", "from PySide6.QtCore import QSettings", "engine imports no Qt"),
        ("engine/settings/file.py", "def window():\n    from PySide6.QtWidgets import QWidget", "engine imports no Qt"),
    ],
)
def test_an_import_against_the_arrows_breaks_its_contract(source_copy: Path, module: str, code: str, contract: str) -> None:
    path = source_copy / module
    path.write_text(f"{path.read_text()}\n{code}\n")
    result = lint_imports(source_copy)
    assert result.returncode == 1
    assert f"{contract} BROKEN" in result.stdout, result.stdout
