"""The export's steps as the user sees them: a label and a share of the whole for each, reported as JobProgress."""

from __future__ import annotations

import time

from engine.jobs import JobProgress, Report

STEPS = {
    "check": ("Checking the model", 0.02),
    "read": ("Reading weights", 0.08),
    "torch": ("Building the PyTorch model", 0.05),
    "compare": ("Comparing PyTorch with MLX", 0.05),
    "convert": ("Tracing and converting to Core ML", 0.30),
    "compress": ("Compressing weights", 0.30),
    "save": ("Writing the package", 0.08),
    "verify": ("Running the saved program", 0.10),
    "finish": ("Writing the manifest", 0.02),
}


class Steps:
    """Turns 'starting step X' into JobProgress events with an overall fraction."""

    def __init__(self, report: Report, steps: dict[str, tuple[str, float]] | None = None) -> None:
        self._report = report
        self._steps = steps or STEPS
        self._done = 0.0
        self._current: tuple[str, float] | None = None
        self.seconds: dict[str, float] = {}
        """How long each step took, for the summary and the benchmark."""

    def start(self, step: str, detail: str = "") -> None:
        self._close()
        label, share = self._steps[step]
        self._report(JobProgress(step, self._done, f"{label}{': ' + detail if detail else ''}"))
        self._done += share
        self._current = (step, time.perf_counter())

    def finish(self) -> None:
        self._close()
        self._report(JobProgress("done", 1.0, "Done"))

    def _close(self) -> None:
        if self._current:
            step, began = self._current
            self.seconds[step] = time.perf_counter() - began
