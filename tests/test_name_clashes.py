"""One name, one meaning per module: no module imports two different things under the same name.

Generation's events (`engine.generation`: Event, Finished) and the child-job events (`engine.jobs`: JobFinished,
JobFailed...) are named apart; this keeps it so, including through aliases, so a reader never has to guess which
`Finished` an `isinstance` means.
"""

from __future__ import annotations

import ast
import importlib
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCES = sorted(path for package in ("cabin", "app", "engine") for path in (ROOT / package).rglob("*.py"))


def imported_names(source: str) -> dict[str, set[str]]:
    """Bound name -> the modules it is imported from (`from module import name`), anywhere in the file."""
    names: dict[str, set[str]] = defaultdict(set)
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                names[alias.asname or alias.name].add(f"{node.module}:{alias.name}")
    return names


def resolve(origin: str) -> object:
    module, attr = origin.split(":")
    try:
        return getattr(importlib.import_module(module), attr)
    except AttributeError:
        return importlib.import_module(f"{module}.{attr}")


def clashes(source: str) -> list[str]:
    """Names bound to two different objects (re-exports of the same object are one thing)."""
    found = []
    for name, origins in imported_names(source).items():
        if len(origins) > 1 and len({id(resolve(origin)) for origin in origins}) > 1:
            found.append(f"{name} from {sorted(origins)}")
    return found


def test_no_module_imports_two_things_under_one_name() -> None:
    found = {str(path.relative_to(ROOT)): clashes(path.read_text()) for path in SOURCES}
    assert {path: names for path, names in found.items() if names} == {}


def test_importing_two_finished_events_under_one_name_is_caught() -> None:
    source = "from engine.generation import Finished\nfrom engine.jobs import JobFinished as Finished\n"
    assert clashes(source) == ["Finished from ['engine.generation:Finished', 'engine.jobs:JobFinished']"]
