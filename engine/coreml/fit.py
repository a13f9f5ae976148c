"""Will an export fit in memory? Refuse up front rather than swap the machine to a halt.

Measured peaks for a 125M-parameter llama (bench/coreml_export.py): fp16 1.9 GB, int4 blocks 2.1 GB,
4-bit palettes 3.0 GB: fp32 numpy weights, the fp32 torch model, the traced graph, the fp16 program
and the compressed copy coexist. 20 bytes per parameter plus a base covers the worst of these.
"""

from __future__ import annotations

from engine.coreml.options import ExportError
from engine.coreml.source import SourceModel
from engine.memory import format_bytes, system_memory

BYTES_PER_PARAMETER = 20
BASE_BYTES = 600 * 2**20


def export_memory_needed(parameters: int) -> int:
    return parameters * BYTES_PER_PARAMETER + BASE_BYTES


def check_fits(source: SourceModel) -> None:
    needed = export_memory_needed(source.parameters)
    available = system_memory().available
    if needed > available:
        raise ExportError(
            f"{source.info.name} ({source.parameters / 1e9:.2f}B parameters) needs about {format_bytes(needed)} "
            f"of memory to export; {format_bytes(available)} is available"
        )
