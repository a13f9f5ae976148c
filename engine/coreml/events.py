"""What an export reports when it ends: plain, picklable dataclasses sent over a pipe (its progress is a JobProgress)."""

from __future__ import annotations

from dataclasses import dataclass, field

from engine.coreml.fidelity import Fidelity


@dataclass(frozen=True)
class LayerError:
    """One compressed weight: its parameter name, the settings used and its reconstruction error."""

    name: str
    shape: tuple[int, ...]
    role: str
    bits: int
    group_size: int
    relative_error: float


@dataclass(frozen=True)
class ExportSummary:
    """The result of a finished export, shown by the CLI and the export pane."""

    out: str
    package: str
    source_model: str
    architecture: str
    parameters: int
    mode: str
    bits: int
    group_size: int | None
    context: int
    source_bytes: int
    fp16_bytes: int
    package_bytes: int
    seconds: float
    peak_memory: int
    step_seconds: dict[str, float] = field(default_factory=dict)
    layers: list[LayerError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    torch_vs_mlx: float | None = None
    program_vs_torch: float | None = None
    program_top_token_matches: bool | None = None
    fidelity: Fidelity | None = None

    @property
    def compression_ratio(self) -> float:
        return self.package_bytes / self.fp16_bytes if self.fp16_bytes else 1.0

    @property
    def worst_layer(self) -> LayerError | None:
        return max(self.layers, key=lambda layer: layer.relative_error, default=None)
