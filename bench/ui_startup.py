"""How long `cabin` (the real entry point, no command) takes to put its window on screen, and what it has
imported by then.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_startup.py [--runs 5]

Each run is a fresh process (imports are what startup costs) that calls `cabin.main.main([])`, exactly what
the `cabin` console script and `python -m cabin` run, timed from launching the process to the window's first
paint. To see that paint, the process creates the QApplication before calling the entry point (which reuses
it) and watches it. The goal: within one second, with neither MLX nor torch imported on the main thread (the
last used model loads after the window shows).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("mlx.core", "mlx_lm", "torch", "transformers", "coremltools")
CHILD = r"""
import json, sys, time
started = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not hasattr(self, "at"):
            self.at, self.wall, self.cpu = time.perf_counter(), time.time(), time.thread_time()
            self.imported = [name for name in HEAVY if name in sys.modules]
            QTimer.singleShot(0, obj.window().close)
        return False

HEAVY = %r
app = QApplication(["cabin"])
probe = FirstPaint()
app.installEventFilter(probe)
QTimer.singleShot(20_000, app.quit)
from cabin.main import main
status = main([])
print(json.dumps({"in_process": probe.at - started, "painted": probe.wall, "cpu": probe.cpu,
                  "imported": probe.imported, "status": status}))
""" % (HEAVY,)


def one_run(data_dir: Path) -> tuple[float, float, float, list[str]]:
    """Seconds from launching the process to the first paint, of which in the process, of which the main thread
    spent on a CPU (what a busy machine does not inflate), and the heavy modules imported by then."""
    env = {**os.environ, "CABIN_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    if result["status"] != 0:
        raise RuntimeError(f"cabin exited with status {result['status']}:\n{out.stderr}")
    return result["painted"] - launched, result["in_process"], result["cpu"], result["imported"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cabin-startup-"))
    runs = [one_run(data_dir) for _ in range(args.runs)]
    total = [r[0] * 1000 for r in runs]
    in_process = [r[1] * 1000 for r in runs]
    cpu = [r[2] * 1000 for r in runs]
    imported = sorted({name for r in runs for name in r[3]})
    print(f"`cabin` launch to first paint: median {statistics.median(total):.0f} ms (min {min(total):.0f}, "
          f"max {max(total):.0f}) over {args.runs} fresh processes; of which imports and window: "
          f"{statistics.median(in_process):.0f} ms (goal: under 1000 ms)")
    print(f"main thread's CPU time to first paint: median {statistics.median(cpu):.0f} ms (load on a shared machine inflates the wall times above, not this)")
    print(f"imported before the first paint: {', '.join(imported) or 'none'} of {', '.join(HEAVY)} (goal: none)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
