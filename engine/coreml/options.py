"""What an export is asked to do, checked before any work starts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.errors import CabinError

MODES = ("palettize", "linear", "affine", "fp16")
BITS = {"palettize": (2, 3, 4, 6, 8), "linear": (4, 8), "affine": (4, 8), "fp16": (16,)}
DEFAULT_GROUP_SIZE = {"palettize": 16, "linear": 32, "affine": 0, "fp16": 0}
EMBEDDINGS = ("8bit", "fp16")
MIN_CONTEXT = 16


class ExportError(CabinError):
    """An export that cannot start or did not finish; nothing was left at the destination."""


@dataclass(frozen=True)
class ExportOptions:
    """One export. `group_size` is output channels per palette (palettize) or the block length
    along the input axis (linear); 0 picks the mode's default. `affine` keeps an MLX-quantized
    source's own 4/8-bit weights (bits and group size come from the source). `embeddings` says
    whether the token embedding table is compressed at 8 bits or left in fp16."""

    model: str
    out: Path
    mode: str = "palettize"
    bits: int = 4
    group_size: int = 0
    context: int = 2048
    embeddings: str = "8bit"
    overwrite: bool = False
    verify: bool = True
    author: str = ""
    license: str = ""
    description: str = ""
    min_weight_elements: int = 2048
    verbose: bool = False
    """Let coremltools, torch and transformers print their progress bars and warnings (off: only Cabin's steps)."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "out", Path(self.out).expanduser())
        if self.mode not in MODES:
            raise ExportError(f"unknown mode '{self.mode}': choose one of {', '.join(MODES)}")
        if self.mode == "fp16":
            object.__setattr__(self, "bits", 16)
        if self.bits not in BITS[self.mode]:
            allowed = ", ".join(map(str, BITS[self.mode]))
            raise ExportError(f"{self.mode} supports {allowed} bits, not {self.bits}")
        if self.group_size < 0:
            raise ExportError(f"group size must be positive, not {self.group_size}")
        if self.group_size == 0:
            object.__setattr__(self, "group_size", DEFAULT_GROUP_SIZE[self.mode])
        if self.context < MIN_CONTEXT:
            raise ExportError(f"context must be at least {MIN_CONTEXT} tokens, not {self.context}")
        if self.embeddings not in EMBEDDINGS:
            raise ExportError(f"embeddings must be one of {', '.join(EMBEDDINGS)}, not '{self.embeddings}'")

    @property
    def recipe(self) -> dict:
        """The settings that shaped the package, as recorded in its manifest and metadata."""
        return {
            "mode": self.mode,
            "bits": self.bits,
            "group_size": self.group_size or None,
            "granularity": {"palettize": "per_grouped_channel", "linear": "per_block", "affine": "per_block", "fp16": None}[
                self.mode
            ],
            "embeddings": self.embeddings,
            "context": self.context,
            "min_weight_elements": self.min_weight_elements,
        }
