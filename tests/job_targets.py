"""Child-job targets for tests/test_jobs.py: small functions a spawned child can import without loading the suite."""

from __future__ import annotations

import os
import time
from pathlib import Path

from engine.errors import ModelError
from engine.jobs import JobProgress, Report


def write_in_steps(staging: str, report: Report) -> str:
    """Writes two files into `staging`, reporting each; returns what it wrote."""
    for index, name in enumerate(("a.txt", "b.txt")):
        (Path(staging) / name).write_text(name)
        report(JobProgress("write", (index + 1) / 2, f"wrote {name}"))
    return "a.txt b.txt"


def write_then_wait(staging: str, report: Report) -> None:
    """Writes one file, says so, then waits to be cancelled."""
    (Path(staging) / "half.txt").write_text("half")
    report(JobProgress("write", 0.5, "wrote half"))
    time.sleep(600)


def fail(kind: str, report: Report) -> None:
    raise ModelError("the weights do not fit\nsecond line") if kind == "cabin" else ValueError("bad shape (3, 4)")


def die(report: Report) -> None:
    """Ends the process without a word, as the kernel's OOM killer would leave it."""
    os._exit(3)
