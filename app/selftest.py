"""`cabin --selftest [MODEL]`: the check a release runs on the built app (and CI on the frozen Linux app).

It exercises what freezing breaks: Qt's platform plugins and the main window, MLX's native library (on
a Mac, the Metal library inside the bundle), the BLAS behind MLX's CPU matmuls, the export stack
(torch, coremltools), the bundled resources, starting a "spawn" child process (conversion and export
run in one) and, given a model, loading it and generating a few tokens. Each check prints one line as it finishes; the exit status is 0 only when every check passed.
It works in a throwaway data folder, so the user's history and settings are never touched.
"""

from __future__ import annotations

import multiprocessing
import os
import platform
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from engine import __version__
from engine.device_check import check_llama_cpp, check_mlx
from engine.messages import user

if TYPE_CHECKING:
    from app.context import AppContext
    from engine.generation import Engine

def run_selftest(model: str | None = None) -> int:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from app.context import AppContext
    from app.main import create_application

    print(f"cabin {__version__} selftest · {describe_runtime()}", flush=True)
    create_application([sys.argv[0]])
    with tempfile.TemporaryDirectory(prefix="cabin-selftest-") as folder:
        context = AppContext.create(Path(folder))
        try:
            passed = [run_check(name, check) for name, check in checks(context, model)]
        finally:
            context.close()
    print("selftest passed" if all(passed) else f"selftest FAILED ({passed.count(False)} of {len(passed)} checks)")
    return 0 if all(passed) else 1


def describe_runtime() -> str:
    kind = "frozen app" if getattr(sys, "frozen", False) else "from source"
    return f"{kind}, {sys.platform} {platform.machine()}, Python {platform.python_version()}"


def checks(context: AppContext, model: str | None) -> list[tuple[str, Callable[[], str]]]:
    """(name, check) pairs; a check returns a one-line detail or raises."""
    found = [
        ("window", lambda: check_window(context)),
        ("mlx", lambda: check_mlx(context.engine)),
        ("blas", check_blas),
        ("llama", check_llama_cpp),
        ("export", check_export_stack),
        ("files", check_resources),
        ("child", check_child_process),
    ]
    if model:
        found.append(("model", lambda: check_model(context.engine, model)))
    return found


def run_check(name: str, check: Callable[[], str]) -> bool:
    start = time.perf_counter()
    try:
        detail, ok = check(), True
    except Exception as e:  # noqa: BLE001 — every failure becomes one line, and the other checks still run
        detail, ok = f"{type(e).__name__}: {first_line(e)}", False
    print(f"{'ok' if ok else 'FAIL':4} {name:7}{detail} ({time.perf_counter() - start:.1f} s)", flush=True)
    return ok


def first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else "(no message)"


def check_window(context: AppContext) -> str:
    from PySide6.QtWidgets import QApplication

    from app.main import build_window

    window = build_window(context)
    window.show()
    QApplication.processEvents()
    image = window.grab().toImage()
    window.close()
    window.deleteLater()
    if image.isNull() or image.width() == 0:
        raise RuntimeError("the main window drew nothing")
    return f"main window drawn offscreen ({image.width()}x{image.height()}, {len(window.panes)} panes, {QApplication.platformName()})"


def check_blas() -> str:
    from engine.blas import ACTIVE

    return str(ACTIVE)


def check_export_stack() -> str:
    """torch and coremltools are imported only when an export starts: prove they are in the bundle."""
    import coremltools
    import torch

    return f"torch {torch.__version__}, coremltools {coremltools.__version__}"


def check_resources() -> str:
    """resources/ sits outside the Python packages, so the spec copies it by hand: the icon and the model catalogue."""
    from app.paths import RESOURCES_DIR, app_icon_path
    from engine.models.catalogue import load_catalogue

    if not app_icon_path().is_file():
        raise FileNotFoundError(f"the app icon is missing from {RESOURCES_DIR}")
    return f"resources in {RESOURCES_DIR}: icon, catalogue of {len(load_catalogue())} models"


def report_to_parent(answers: multiprocessing.Queue) -> None:
    """Runs in the child process."""
    answers.put((os.getpid(), getattr(sys, "frozen", False)))


def check_child_process() -> str:
    """Model conversion and export run in "spawn" child processes, which start this executable again."""
    context = multiprocessing.get_context("spawn")
    answers = context.Queue()
    child = context.Process(target=report_to_parent, args=(answers,), daemon=True)
    child.start()
    pid, frozen = answers.get(timeout=120)
    child.join(timeout=60)
    if child.exitcode != 0:
        raise RuntimeError(f"the child process exited with status {child.exitcode}")
    return f"spawned a child process (pid {pid}{', frozen' if frozen else ''})"


def check_model(engine: Engine, model: str) -> str:
    from engine.generation.settings import SamplingSettings

    info = engine.load(model).result(timeout=600)
    answer = engine.chat([user("Hello")], SamplingSettings(temperature=0.0, max_tokens=8), "selftest")
    finished = answer.result(timeout=600)
    if finished.finish_reason == "error":
        raise RuntimeError(finished.error)
    stats = finished.stats
    if stats.generated_tokens == 0:
        raise RuntimeError(f"{info.name} generated no tokens")
    return f"{info.name}: {stats.generated_tokens} tokens at {stats.generation_tps:.1f} tok/s ({finished.finish_reason})"
