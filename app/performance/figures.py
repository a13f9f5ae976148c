"""How the performance view words its numbers, and the small captioned figure it shows them in."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from engine.generation import Stats
from engine.memory import MemoryLimits, format_bytes

CAPTION_STYLE = "font-size: 11px; color: palette(placeholder-text)"
VALUE_STYLE = "font-size: 17px; font-weight: 600"


def tok_s(value: float) -> str:
    return f"{value:,.0f} tok/s" if value >= 100 else f"{value:.1f} tok/s"


def millis(seconds: float) -> str:
    return f"{seconds * 1000:,.0f} ms" if seconds < 10 else f"{seconds:.1f} s"


def memory_title(platform: str = sys.platform) -> str:
    """On Apple Silicon the CPU and GPU share one (unified) memory; elsewhere it is the system's RAM."""
    return "Unified memory" if platform == "darwin" else "Memory (system RAM)"


def tokens_detail(stats: Stats) -> str:
    cached = f", {stats.cached_tokens:,} from cache" if stats.cached_tokens else ""
    return f"prompt {stats.prompt_tokens:,} tokens{cached}"


def context_detail(stats: Stats, context_length: int | None) -> str:
    used = stats.prompt_tokens + stats.generated_tokens
    text = f"{used:,} of {context_length:,} tokens" if context_length else f"{used:,} tokens"
    if stats.dropped_messages:
        text += f" · {stats.dropped_messages} oldest messages left out"
    return text


def limits_text(limits: MemoryLimits | None, runtime: str = "MLX") -> str:
    if runtime != "MLX":
        return f"Plots show the last two minutes. {runtime} keeps its own memory: the figures are the whole process's."
    if limits is None:
        return "Plots show the last two minutes. MLX limits: MLX's defaults."
    return f"Plots show the last two minutes. MLX limits: memory {format_bytes(limits.memory)} · cache {format_bytes(limits.cache)}."


MEMORY_CAPTIONS = {
    "MLX": (
        ("MLX active", "Memory MLX's arrays use now: weights, KV caches, activations"),
        ("MLX peak", "The most MLX has used since the start or the last reset"),
    ),
    "llama.cpp": (
        ("Process memory", "The whole process's resident memory (llama.cpp reports no allocator figures)"),
        ("Process peak", "The most the process has held since the model loaded or the last reset"),
    ),
}
"""(caption, tooltip) of the active and peak figures, by the runtime the model runs on."""


class Figure(QWidget):
    """A caption over a large value, with an optional line of detail under it."""

    def __init__(self, caption: str, tooltip: str = "") -> None:
        super().__init__()
        self.caption = QLabel(caption)
        self.caption.setStyleSheet(CAPTION_STYLE)
        self.value = QLabel("–")
        self.value.setStyleSheet(VALUE_STYLE)
        self.detail = QLabel()
        self.detail.setStyleSheet(CAPTION_STYLE)
        self.setToolTip(tooltip)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        for label in (self.caption, self.value, self.detail):
            layout.addWidget(label)

    def set_caption(self, caption: str, tooltip: str) -> None:
        self.caption.setText(caption)
        self.setToolTip(tooltip)

    def set_value(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)
