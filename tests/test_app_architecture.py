"""The one-way arrow: the app reaches MLX only through the engine, and the engine never imports Qt."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[str, set[str]]:
    found = {}
    for file in (ROOT / package).rglob("*.py"):
        names = set()
        for node in ast.walk(ast.parse(file.read_text())):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module.split(".")[0])
        found[str(file.relative_to(ROOT))] = names
    return found


@pytest.mark.parametrize(("package", "forbidden"), [("app", {"mlx", "mlx_lm"}), ("engine", {"PySide6", "qasync"})])
def test_package_does_not_import(package: str, forbidden: set[str]) -> None:
    offenders = {file: names & forbidden for file, names in imported_modules(package).items() if names & forbidden}
    assert offenders == {}
