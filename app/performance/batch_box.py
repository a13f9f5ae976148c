"""The performance view's batch: answers running together (API requests and the window's), their aggregate speed,
and the KV cache they hold against the room the memory budget leaves beside the weights."""

from __future__ import annotations

from PySide6.QtGui import QColor
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QVBoxLayout

from app.performance.figures import Figure, tok_s
from app.performance.history import SAMPLES
from app.performance.sparkline import Line, Sparkline
from engine.generation.batch_policy import BatchStatus
from engine.generation.kv_room import KVRoom
from engine.memory import format_bytes

BLUE, PURPLE = QColor("#2f7ed8"), QColor("#8e5bd0")
MUTED = "color: palette(placeholder-text)"


def batching_text(room: KVRoom, loaded: bool) -> str:
    """How the loaded model serves answers that arrive together."""
    if not loaded:
        return "No model loaded."
    if not room.batches:
        return ("Answers run one at a time: this model cannot batch (llama.cpp, a quantized KV cache, "
                "or a cache mlx_lm cannot merge).")
    return (f"Answers asked together (API requests, the window's) run in one batch; the memory budget leaves "
            f"{format_bytes(room.room)} for their KV caches, about {room.tokens():,} tokens of context.")


class BatchBox(QGroupBox):
    def __init__(self) -> None:
        super().__init__("Batch")
        self.running_figure = Figure("Requests running", "Answers in the batch now, decoding or reading their prompt")
        self.rate_figure = Figure("Aggregate", "Tokens the whole batch writes per second (last 2 s)")
        self.kv_figure = Figure("KV cache", "Memory the batch's KV caches take, of the room beside the weights")
        figures = QHBoxLayout()
        for figure in (self.running_figure, self.rate_figure, self.kv_figure):
            figures.addWidget(figure, 1)
        self.rate_plot = Sparkline("Aggregate", tok_s, SAMPLES)
        self.kv_plot = Sparkline("KV cache", format_bytes, SAMPLES)
        plots = QHBoxLayout()
        plots.addWidget(self.rate_plot)
        plots.addWidget(self.kv_plot)
        self.note_label = QLabel()
        self.note_label.setStyleSheet("color: #e08a1e")
        self.about_label = QLabel()
        self.about_label.setWordWrap(True)
        self.about_label.setStyleSheet(MUTED)
        layout = QVBoxLayout(self)
        layout.addLayout(figures)
        layout.addLayout(plots)
        layout.addWidget(self.note_label)
        layout.addWidget(self.about_label)
        self._rates: list[float] = []
        self._kv: list[float] = []
        self.show_status(BatchStatus(), KVRoom(0, 0), loaded=False)

    def show_status(self, status: BatchStatus, room: KVRoom, loaded: bool) -> None:
        self.running_figure.set_value(f"{status.running}", "in one batch" if status.running > 1 else "")
        self.rate_figure.set_value(tok_s(status.tokens_per_second) if status.running else "–")
        share = f"of {format_bytes(room.room)}" if room.room else ""
        self.kv_figure.set_value(format_bytes(status.kv_bytes) if status.running else "–", share)
        self._rates = [*self._rates, status.tokens_per_second][-SAMPLES:]
        self._kv = [*self._kv, float(status.kv_bytes)][-SAMPLES:]
        self.rate_plot.set_lines([Line("tok/s", BLUE, self._rates)])
        self.kv_plot.set_lines([Line("KV", PURPLE, self._kv)])
        self.note_label.setText(status.note or "")
        self.note_label.setVisible(status.note is not None)
        self.about_label.setText(batching_text(room, loaded))
