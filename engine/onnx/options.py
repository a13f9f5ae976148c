"""What an ONNX export is asked to do, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.coreml.options import ExportError

PRECISIONS = ("int4", "fp16", "fp32")
BLOCK_SIZES = (16, 32, 64, 128, 256)
MIN_CONTEXT = 128
"""Room for the 60-token quality text and the 32-token greedy check."""


def check_runnable(architecture: str, precision: str) -> None:
    """Refuse, before any work, what ONNX Runtime GenAI 0.18's CPU provider cannot run: Gemma 3 in fp16 (its
    sliding-window layers' KV cache is allocated one token short on the first decode step)."""
    if architecture == "gemma3_text" and precision == "fp16":
        raise ExportError("ONNX Runtime GenAI cannot run a Gemma 3 fp16 export on the CPU: choose int4 or fp32")


@dataclass(frozen=True)
class OnnxExportOptions:
    """One export. `block_size` is the int4 block length along the input axis (an MLX 4-bit source whose
    group size equals it keeps its own quantized weights); `context` is the longest sequence the KV cache holds."""

    model: str
    out: Path
    precision: str = "int4"
    block_size: int = 32
    context: int = 2048
    overwrite: bool = False
    verify: bool = True
    verbose: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out).expanduser())
        if self.precision not in PRECISIONS:
            raise ExportError(f"unknown precision '{self.precision}': choose one of {', '.join(PRECISIONS)}")
        if self.block_size not in BLOCK_SIZES:
            raise ExportError(f"block size must be one of {', '.join(map(str, BLOCK_SIZES))}, not {self.block_size}")
        if self.context < MIN_CONTEXT:
            raise ExportError(f"context must be at least {MIN_CONTEXT} tokens, not {self.context}")

    @property
    def recipe(self) -> dict:
        return {
            "precision": self.precision,
            "block_size": self.block_size if self.precision == "int4" else None,
            "context": self.context,
            "execution_provider": "cpu",
        }
