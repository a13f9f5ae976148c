"""`cabin`, the composition root: no command opens the window, `--selftest` checks the installation, any other
command runs the headless command line; and launching imports only what the chosen path needs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli import COMMANDS

HEAVY = ("mlx", "mlx_lm", "transformers", "torch", "coremltools", "aiohttp", "huggingface_hub", "PySide6")
WINDOW_PROBE = """
import json, sys
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

class FirstPaint(QObject):
    seen = None

    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and self.seen is None:
            window = obj.window()
            self.seen = {"title": window.windowTitle(), "class": type(window).__name__,
                         "imported": sorted({name.split(".")[0] for name in sys.modules})}
            QTimer.singleShot(0, window.close)
        return False

app = QApplication(["cabin"])  # cabin reuses it; created here to watch for the first paint
probe = FirstPaint()
app.installEventFilter(probe)
QTimer.singleShot(60_000, app.quit)
from cabin.main import main
status = main([])
print(json.dumps({"status": status, **(probe.seen or {})}))
"""


RUN_CABIN = """
import atexit, json, runpy, sys
atexit.register(lambda: print("imported:", json.dumps(sorted(sys.modules)), file=sys.stderr))
sys.argv[0] = "cabin"
runpy.run_module("cabin", run_name="__main__", alter_sys=True)
"""


def run_cabin(*args: str) -> tuple[subprocess.CompletedProcess, set[str]]:
    """Run `python -m cabin ARGS` as a user would; also every module imported by the time it exited."""
    result = subprocess.run([sys.executable, "-c", RUN_CABIN, *args], capture_output=True, text=True, timeout=120)
    report = result.stderr.splitlines()[-1]
    assert report.startswith("imported: "), result.stderr
    return result, set(json.loads(report.removeprefix("imported: ")))


def top_level(modules: set[str]) -> set[str]:
    return {name.split(".")[0] for name in modules}


def test_version_prints_the_version_and_imports_no_heavy_library() -> None:
    result, imported = run_cabin("--version")
    assert result.returncode == 0
    assert result.stdout.startswith("cabin ")
    assert top_level(imported) & set(HEAVY) == set()


def test_help_lists_every_command_the_selftest_and_the_window_without_importing_them() -> None:
    result, imported = run_cabin("--help")
    assert result.returncode == 0
    assert all(name in result.stdout for name in COMMANDS)
    assert "--selftest" in result.stdout
    assert "With no command it opens the desktop app." in " ".join(result.stdout.split())
    assert top_level(imported) & set(HEAVY) == set()
    assert {command.module for command in COMMANDS.values()} & imported == set()


@pytest.mark.parametrize("name", ["chat", "bench", "models", "export-coreml"])
def test_a_command_imports_its_own_module_only(name: str) -> None:
    """`serve` is left out: its arguments' defaults come from the server, which is aiohttp."""
    result, imported = run_cabin(name, "--help")
    assert result.returncode == 0
    assert f"usage: cabin {name}" in result.stdout
    assert {command.module for command in COMMANDS.values()} & imported == {COMMANDS[name].module}
    assert top_level(imported) & set(HEAVY) == set()


def test_the_headless_command_line_asks_for_a_command_in_one_line() -> None:
    result = subprocess.run([sys.executable, "-m", "engine.cli"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-1] == "cabin: error: choose a command (run `cabin` for the desktop app)"


def test_no_command_opens_the_window_before_mlx_or_torch_is_imported(tmp_path: Path) -> None:
    env = os.environ | {"QT_QPA_PLATFORM": "offscreen", "CABIN_DATA_DIR": str(tmp_path)}
    result = subprocess.run([sys.executable, "-c", WINDOW_PROBE], capture_output=True, text=True, timeout=120, env=env)
    assert result.returncode == 0, result.stderr
    window = json.loads(result.stdout.strip().splitlines()[-1])
    assert window["status"] == 0
    assert (window["class"], window["title"]) == ("MainWindow", "Cabin")
    assert set(window["imported"]) & {"mlx", "mlx_lm", "transformers", "torch", "coremltools"} == set()
