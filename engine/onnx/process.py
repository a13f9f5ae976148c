"""Run an ONNX export as a child job (engine/jobs.py): progress over a pipe, cancel by kill, nothing half-written.

Staging, publishing and the refusal to overwrite are the Core ML export's (engine/coreml/staging.py).
This module imports neither onnx nor MLX.
"""

from __future__ import annotations

from pathlib import Path

from engine.coreml.process import silence
from engine.coreml.staging import check_destination, make_staging, publish
from engine.jobs import ChildJob, Report
from engine.onnx.options import OnnxExportOptions


def export_child(options: OnnxExportOptions, staging: Path, report: Report) -> object:
    if not options.verbose:
        silence()
    from engine.onnx.export import run_export

    return run_export(options, staging, report)


def start_onnx_export(options: OnnxExportOptions) -> ChildJob:
    """Start one export; its result is an `OnnxExportSummary`. The destination is checked before the child starts."""
    check_destination(options.out, options.overwrite)
    staging = make_staging(options.out)
    return ChildJob(export_child, (options, staging), name="export-onnx", staging=staging,
                    publish=lambda: publish(staging, options.out, options.overwrite), cancelled="export cancelled")
