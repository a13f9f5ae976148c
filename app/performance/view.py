"""The performance view: speed of the answer being written and of recent ones, the batch of answers running
together (app/performance/batch_box.py), MLX and system memory,
the loaded model's weights and how it computes — as numbers and as small plots — and a benchmark of the
loaded model in llama-bench's table (app/performance/bench_box.py).

It polls the engine through a `PerformanceMonitor` only while it is on screen, and repaints at most
at the monitor's rate (2 Hz during an answer).
"""

from __future__ import annotations

import html
import time

from PySide6.QtCore import Signal
from PySide6.QtGui import QColor, QHideEvent, QShowEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QScrollArea,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.context import AppContext
from app.performance.batch_box import BatchBox
from app.performance.bench_box import BenchBox
from app.performance.cloud_box import CloudBox
from app.performance.figures import (
    MEMORY_CAPTIONS,
    Figure,
    context_detail,
    limits_text,
    memory_title,
    millis,
    tok_s,
    tokens_detail,
)
from app.performance.history import SAMPLES
from app.performance.monitor import PerformanceMonitor
from app.performance.sparkline import Line, Sparkline
from engine import blas
from engine.backends import backend_name
from engine.generation import Stats
from engine.generation.settings import within_model_context
from engine.memory import format_bytes
from engine.metrics import RECENT_ANSWERS, Activity

BLUE, GREEN, ORANGE, PURPLE, GREY = (QColor(c) for c in ("#2f7ed8", "#2e9d57", "#e08a1e", "#8e5bd0", "#8a8a8a"))
TABLE_COLUMNS = ("Ended", "Prompt", "From cache", "Prompt tok/s", "Answer", "Answer tok/s", "First token", "End")
MUTED = "color: palette(placeholder-text)"


def muted(text: str) -> QLabel:
    label = QLabel(text)
    label.setStyleSheet(MUTED)
    return label


class PerformanceView(QWidget):
    sig_peak_reset = Signal()
    """MLX's peak was reset on the worker; queued here to read memory again."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self._answers_shown = -1
        self._runtime = "MLX"
        self.setWindowTitle("Performance")
        self.context = context
        self.monitor = PerformanceMonitor(context)
        self.monitor.sig_updated.connect(self.refresh)
        self.sig_peak_reset.connect(self.monitor.poll)
        context.models.sig_changed.connect(self._show_model)
        body = QWidget()
        column = QVBoxLayout(body)
        column.addWidget(self._answers_box())
        self.cloud_box = CloudBox(context.store)
        column.addWidget(self.cloud_box)
        self.batch_box = BatchBox()
        column.addWidget(self.batch_box)
        column.addWidget(self._memory_box())
        column.addWidget(self._model_box())
        self.bench_box = BenchBox(context)
        column.addWidget(self.bench_box)
        column.addWidget(self._recent_box())
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        scroll.setWidget(body)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll)
        self._show_model()

    # -- building ----------------------------------------------------------------------------
    def _answers_box(self) -> QGroupBox:
        box = QGroupBox("Answers")
        self.answer_title = muted("No answer yet")
        self.generation_figure = Figure("Generation", "Tokens written per second, after the first one")
        self.prompt_figure = Figure("Prompt processing", "Prompt tokens read per second (prefill)")
        self.ttft_figure = Figure("Time to first token", "From the question reaching the model to its first token")
        self.context_figure = Figure("Context", "Prompt plus answer, against the context length in Preferences")
        figures = QHBoxLayout()
        for figure in (self.generation_figure, self.prompt_figure, self.ttft_figure, self.context_figure):
            figures.addWidget(figure, 1)
        self.generation_plot = Sparkline("Generation", tok_s, RECENT_ANSWERS + 1)
        self.prompt_plot = Sparkline("Prompt", tok_s, RECENT_ANSWERS + 1)
        self.ttft_plot = Sparkline("First token", millis, RECENT_ANSWERS + 1)
        plots = QHBoxLayout()
        for plot in (self.generation_plot, self.prompt_plot, self.ttft_plot):
            plots.addWidget(plot)
        layout = QVBoxLayout(box)
        layout.addWidget(self.answer_title)
        layout.addLayout(figures)
        layout.addLayout(plots)
        layout.addWidget(muted(f"One point per answer, newest on the right (the last {RECENT_ANSWERS})."))
        return box

    def _memory_box(self) -> QGroupBox:
        box = QGroupBox(memory_title())
        (active, active_tip), (peak, peak_tip) = MEMORY_CAPTIONS["MLX"]
        self.active_figure = Figure(active, active_tip)
        self.peak_figure = Figure(peak, peak_tip)
        self.cache_figure = Figure("MLX cache", "Freed memory MLX keeps for reuse (see the cache limit)")
        self.weights_figure = Figure("Model weights", "The loaded model's weights: on disk, and in memory")
        self.system_figure = Figure("System available", "Memory the system can still give out, of its total")
        self.reset_peak_button = QPushButton("Reset Peak")
        self.reset_peak_button.setToolTip("Start measuring the peak memory again from now")
        self.reset_peak_button.clicked.connect(self.reset_peak)
        figures = QGridLayout()
        for index, figure in enumerate((self.active_figure, self.peak_figure, self.cache_figure,
                                        self.weights_figure, self.system_figure)):
            figures.addWidget(figure, 0, index)
        figures.addWidget(self.reset_peak_button, 1, 1)
        self.mlx_plot = Sparkline("MLX", format_bytes, SAMPLES)
        self.system_plot = Sparkline("Available", format_bytes, SAMPLES)
        plots = QHBoxLayout()
        plots.addWidget(self.mlx_plot, 2)
        plots.addWidget(self.system_plot, 1)
        self.limits_label = muted(limits_text(None))
        layout = QVBoxLayout(box)
        layout.addLayout(figures)
        layout.addLayout(plots)
        layout.addWidget(self.limits_label)
        return box

    def _model_box(self) -> QGroupBox:
        box = QGroupBox("Model and compute")
        self.model_label = QLabel()
        self.plan_label = QLabel()
        self.blas_label = QLabel()
        layout = QVBoxLayout(box)
        for label in (self.model_label, self.plan_label, self.blas_label):
            label.setWordWrap(True)
            layout.addWidget(label)
        return box

    def _recent_box(self) -> QGroupBox:
        box = QGroupBox("Recent answers")
        self.table = QTableWidget(0, len(TABLE_COLUMNS))
        self.table.setHorizontalHeaderLabels(TABLE_COLUMNS)
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setMinimumHeight(150)
        layout = QVBoxLayout(box)
        layout.addWidget(self.table)
        return box

    # -- showing -----------------------------------------------------------------------------
    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 — Qt override
        self.monitor.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 — Qt override
        self.monitor.stop()
        super().hideEvent(event)

    def reset_peak(self) -> None:
        self.context.engine.reset_peak_memory().add_done_callback(lambda _f: self.sig_peak_reset.emit())

    def refresh(self) -> None:
        activity = self.monitor.activity
        self.bench_box.set_answering(activity.generating)
        self._show_answers(activity)
        self.cloud_box.refresh()
        engine = self.context.engine
        self.batch_box.show_status(engine.batch_status(), engine.kv_room, self.context.models.info is not None)
        self._show_memory()
        if self._answers_shown != activity.answers:
            self._answers_shown = activity.answers
            self._show_table(activity)

    def _show_answers(self, activity: Activity) -> None:
        stats = activity.live if activity.generating else (activity.recent[-1].stats if activity.recent else None)
        self.answer_title.setText("Writing an answer now…" if activity.generating
                                  else "Last answer" if stats else "No answer yet")
        if stats is not None:
            self._show_stats(stats)
        answers = [record.stats for record in activity.recent] + ([activity.live] if activity.generating and activity.live else [])
        self.generation_plot.set_lines([Line("Generation", BLUE, [s.generation_tps for s in answers])])
        self.prompt_plot.set_lines([Line("Prompt", GREEN, [s.prompt_tps for s in answers])])
        self.ttft_plot.set_lines([Line("First token", ORANGE, [s.ttft for s in answers])])

    def _show_stats(self, stats: Stats) -> None:
        self.generation_figure.set_value(tok_s(stats.generation_tps), f"{stats.generated_tokens:,} tokens")
        self.prompt_figure.set_value(tok_s(stats.prompt_tps), tokens_detail(stats))
        self.ttft_figure.set_value(millis(stats.ttft), f"{stats.prefilled_tokens:,} tokens prefilled")
        self.context_figure.set_value(f"{stats.prompt_tokens + stats.generated_tokens:,}",
                                      context_detail(stats, self._context_length()))

    def _context_length(self) -> int | None:
        info = self.context.models.info
        settings = within_model_context(self.context.settings.sampling(), info.context_length if info else None)
        return settings.context_length

    def _show_memory(self) -> None:
        reading = self.monitor.memory
        self.active_figure.set_value(format_bytes(reading.active))
        self.peak_figure.set_value(format_bytes(reading.peak))
        self.cache_figure.set_value(format_bytes(reading.cache))
        system = reading.system
        self.system_figure.set_value(format_bytes(system.available), f"of {format_bytes(system.total)}")
        history = self.monitor.history
        cache = [Line("cache", PURPLE, history.series("cache"))] if self._runtime == "MLX" else []
        self.mlx_plot.set_lines([Line("active", BLUE, history.series("active")), *cache,
                                 Line("peak", GREY, history.series("peak"))])
        self.system_plot.set_lines([Line("available", GREEN, history.series("available"))], ceiling=system.total)
        self.limits_label.setText(limits_text(reading.limits, self._runtime))

    def _show_model(self) -> None:
        info = self.context.models.info
        engine = self.context.engine
        self._show_runtime(backend_name(info) if info else "MLX")
        if info is None:
            self.model_label.setText("No model loaded.")
            self.weights_figure.set_value("–")
            self.plan_label.hide()
            return
        context = f" · trained context {info.context_length:,} tokens" if info.context_length else ""
        self.model_label.setText(f"<b>{html.escape(info.name)}</b> · {info.model_type} · {info.precision}{context}")
        self.weights_figure.set_value(format_bytes(engine.resident_weight_bytes or info.weight_bytes),
                                      f"{format_bytes(info.weight_bytes)} on disk")
        plan = engine.compute_plan
        self.plan_label.setText(f"Compute: {plan}" if plan else "")
        self.plan_label.setVisible(plan is not None)

    def _show_runtime(self, runtime: str) -> None:
        """Word the memory figures for the runtime the model runs on: MLX's allocator, or llama.cpp's whole process."""
        self._runtime = runtime
        on_mlx = runtime == "MLX"
        (active, active_tip), (peak, peak_tip) = MEMORY_CAPTIONS[runtime]
        self.active_figure.set_caption(active, active_tip)
        self.peak_figure.set_caption(peak, peak_tip)
        self.cache_figure.setVisible(on_mlx)
        self.mlx_plot.title = "MLX" if on_mlx else "Process"
        if on_mlx:
            self.blas_label.setText(f"Matrix library: {blas.ACTIVE}")
            self.blas_label.setToolTip("The BLAS that runs MLX's matrix products on the CPU")
        else:
            self.blas_label.setText("Runs on llama.cpp: the GGUF file as it is, in its own quantization")
            self.blas_label.setToolTip("")

    def _show_table(self, activity: Activity) -> None:
        records = list(reversed(activity.recent))
        self.table.setRowCount(len(records))
        for row, record in enumerate(records):
            s = record.stats
            cells = (time.strftime("%H:%M:%S", time.localtime(record.finished_at)), f"{s.prompt_tokens:,}",
                     f"{s.cached_tokens:,}", tok_s(s.prompt_tps), f"{s.generated_tokens:,}", tok_s(s.generation_tps),
                     millis(s.ttft), record.finish_reason)
            for column, text in enumerate(cells):
                self.table.setItem(row, column, QTableWidgetItem(text))
