"""How long `cabin` takes to put its window on screen, and what it has imported by then.

    QT_QPA_PLATFORM=offscreen .venv/bin/python bench/ui_startup.py [--runs 5]

Each run is a fresh process (imports are what startup costs), timed from interpreter start to the
window's first paint; the goal is well under two seconds, with MLX not yet imported (it loads after).
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
CHILD = r"""
import json, os, sys, time
started = time.perf_counter()
from PySide6.QtCore import QEvent, QObject, QTimer
from app.main import build_window, create_application
from app.context import AppContext

class FirstPaint(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint and not hasattr(self, "at"):
            self.at, self.wall = time.perf_counter(), time.time()
            QTimer.singleShot(0, app.quit)
        return False

app = create_application([])
context = AppContext.create()
window = build_window(context)
probe = FirstPaint()
app.installEventFilter(probe)
window.show()
QTimer.singleShot(10_000, app.quit)
app.exec()
print(json.dumps({"in_process": probe.at - started, "painted": probe.wall, "mlx_imported": "mlx.core" in sys.modules}))
window.close()
context.close()
"""


def one_run(data_dir: Path) -> tuple[float, float, bool]:
    """(seconds from launching the process to the first paint, of which after the first import, MLX imported?)"""
    env = {**os.environ, "CABIN_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    launched = time.time()
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True, text=True, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["painted"] - launched, result["in_process"], result["mlx_imported"]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="cabin-startup-"))
    runs = [one_run(data_dir) for _ in range(args.runs)]
    total = [r[0] * 1000 for r in runs]
    imports = [r[1] * 1000 for r in runs]
    print(f"launch to first paint: median {statistics.median(total):.0f} ms (min {min(total):.0f}, max {max(total):.0f})"
          f" over {args.runs} fresh processes; of which Cabin's imports and window: {statistics.median(imports):.0f} ms")
    print(f"MLX imported before the window showed: {any(r[2] for r in runs)} (goal: False, well under 2000 ms)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
