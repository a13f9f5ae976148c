"""Run an export as a child job (engine/jobs.py): progress over a pipe, cancel by kill, nothing half-written.

The child isolates the export's multi-GB peak and keeps torch, coremltools and MLX out of the
caller (the app's engine thread, or the CLI). The export writes into a staging folder, which this
process renames to the destination once the child finished, and removes otherwise.
This module imports neither torch nor MLX: the app's export pane talks to it directly.
"""

from __future__ import annotations

from pathlib import Path

from engine.coreml.events import ExportSummary
from engine.coreml.options import ExportOptions
from engine.coreml.staging import check_destination, make_staging, publish
from engine.jobs import ChildJob, Report


def silence() -> None:
    """Keep the libraries' chatter (coremltools' progress bars and "Failed to load _MLCPUComputeDeviceProxy"
    lines, torch and transformers warnings) off the user's terminal: progress goes over the pipe instead.
    The child's stdout and stderr go to /dev/null, which also catches what native code prints."""
    import logging
    import os
    import warnings

    os.environ["TQDM_DISABLE"] = "1"
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def export_child(options: ExportOptions, staging: Path, report: Report) -> ExportSummary:
    """The child process: one export into `staging`."""
    if not options.verbose:
        silence()
    from engine.coreml.export import run_export

    return run_export(options, staging, report)


def start_export(options: ExportOptions) -> ChildJob:
    """Start one export; its result is the `ExportSummary`. The destination is checked here, before the child
    starts, so a refusal is immediate."""
    check_destination(options.out, options.overwrite)
    staging = make_staging(options.out)
    return ChildJob(export_child, (options, staging), name="export", staging=staging,
                    publish=lambda: publish(staging, options.out, options.overwrite), cancelled="export cancelled")
