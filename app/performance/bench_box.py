"""The Performance view's Benchmark box: `cabin bench` on the loaded model, llama-bench's table in the view.

The benchmark is one job on the engine's worker, so it never runs while an answer is being written (it queues
behind it, and the buttons are disabled meanwhile), and an answer asked for during a benchmark waits until it
ends; Cancel ends it within one token. With a GGUF loaded, Compare also runs its MLX import (Cabin's, or one
imported into a temporary folder in a child process first) beside it, in the same worker job.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
)

from app.context import AppContext
from engine.bench import BenchPlan, BenchResult
from engine.bench_table import COLUMNS, params_text, ratio_line, size_text, table, threads_text, tokens_per_second
from engine.errors import CabinError

MUTED = "color: palette(placeholder-text)"
RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
APP_PLAN = BenchPlan(prompt_tokens=512, generate=128, repeats=3)


def result_rows(result: BenchResult) -> list[tuple[str, ...]]:
    """The table's cells for one result: its pp row and its tg row."""
    model = (result.description, size_text(result.size_bytes), params_text(result.parameters), result.backend)
    return [
        (*model, threads_text(result.prompt_threads), f"pp{result.prompt_tokens}", tokens_per_second(result.pp_samples)),
        (*model, threads_text(result.decode_threads), f"tg{result.generated_tokens}", tokens_per_second(result.tg_samples)),
    ]  # fmt: skip


def run_compare(context: AppContext, plan: BenchPlan, stop: threading.Event) -> tuple[list[BenchResult], str]:
    """The loaded GGUF and its MLX import, benchmarked in one worker job; (results, where the import came from).
    Blocks: run it off the UI thread."""
    from engine.bench_compare import compare_beside, gguf_to_compare, mlx_side

    gguf = gguf_to_compare(context.engine.model_info.path)
    with mlx_side(gguf, stop) as mlx:
        return compare_beside(context.engine, mlx.info, plan, stop).result(), mlx.note


class BenchBox(QGroupBox):
    sig_finished = Signal(object, str)
    """(results, note) from a finished benchmark; emitted from whichever thread finished it, shown here."""
    sig_failed = Signal(str)

    def __init__(self, context: AppContext) -> None:
        super().__init__("Benchmark")
        self.context = context
        self.plan = APP_PLAN
        self.results: list[BenchResult] = []
        self._stop: threading.Event | None = None
        self._answering = False
        self._started = 0.0
        self.sig_finished.connect(self._show_results)
        self.sig_failed.connect(self._show_failure)
        context.models.sig_changed.connect(self._update_buttons)
        QApplication.instance().aboutToQuit.connect(self.cancel)  # quitting must not wait for a whole benchmark
        self.layout_box()
        self._update_buttons()

    def layout_box(self) -> None:
        self.run_button = QPushButton("Benchmark")
        self.run_button.setToolTip("Measure prompt processing and generation speed as llama-bench does (cabin bench)")
        self.run_button.clicked.connect(self.run_bench)
        self.compare_button = QPushButton("Compare with MLX")
        self.compare_button.setToolTip("Benchmark this GGUF on llama.cpp and its MLX import on MLX, in one run")
        self.compare_button.clicked.connect(self.run_compare)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.copy_button = QPushButton("Copy as Markdown")
        self.copy_button.clicked.connect(self.copy_markdown)
        buttons = QHBoxLayout()
        for button in (self.run_button, self.compare_button, self.cancel_button, self.copy_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.status = QLabel(self._plan_text())
        self.status.setStyleSheet(MUTED)
        self.status.setWordWrap(True)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels([name for name, _ in COLUMNS])
        self.table.verticalHeader().setVisible(False)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.hide()
        self.ratio_label = QLabel()
        self.ratio_label.hide()
        layout = QVBoxLayout(self)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addWidget(self.table)
        layout.addWidget(self.ratio_label)

    def _plan_text(self) -> str:
        return (f"pp{self.plan.prompt_tokens} and tg{self.plan.generate}, {self.plan.repeats} times each, on the loaded "
                "model. Answers asked for meanwhile wait until it ends.")  # fmt: skip

    # -- state -------------------------------------------------------------------------------
    @property
    def running(self) -> bool:
        return self._stop is not None

    def set_answering(self, answering: bool) -> None:
        """An answer is being written: no benchmark starts until it ends."""
        self._answering = answering
        self._update_buttons()

    def _loaded_is_gguf(self) -> bool:
        from engine.models.gguf_model import is_gguf_file

        info = self.context.models.info
        return info is not None and is_gguf_file(info.path)

    def _update_buttons(self) -> None:
        idle = self.context.models.info is not None and not self.running and not self._answering
        self.run_button.setEnabled(idle)
        self.compare_button.setVisible(self._loaded_is_gguf())
        self.compare_button.setEnabled(idle)
        self.cancel_button.setVisible(self.running)
        self.copy_button.setVisible(bool(self.results) and not self.running)

    # -- running -----------------------------------------------------------------------------
    def run_bench(self) -> None:
        from engine.bench import start_bench

        stop = self._begin("Benchmarking the loaded model…")
        future = start_bench(self.context.engine, self.plan, stop)
        future.add_done_callback(lambda f: self._deliver(f, ""))

    def run_compare(self) -> None:
        stop = self._begin("Comparing llama.cpp and MLX (importing the model for MLX first if Cabin has no import)…")
        plan, context = self.plan, self.context

        def work() -> None:
            try:
                results, note = run_compare(context, plan, stop)
            except CabinError as e:
                self.sig_failed.emit(str(e))
            else:
                self.sig_finished.emit(results, note)

        threading.Thread(target=work, name="cabin-bench-compare", daemon=True).start()

    def cancel(self) -> None:
        if self._stop is not None:
            self._stop.set()
            self.status.setText("Cancelling…")

    def copy_markdown(self) -> None:
        QApplication.clipboard().setText(self.markdown())

    def markdown(self) -> str:
        lines = [table(self.results)]
        if len(self.results) == 2:
            lines.append(ratio_line(*self.results))
        return "\n\n".join(lines)

    def _begin(self, what: str) -> threading.Event:
        self._stop = threading.Event()
        self._started = time.monotonic()
        self.status.setText(f"{what} Answers asked for meanwhile wait until it ends.")
        self._update_buttons()
        return self._stop

    def _deliver(self, future: Future, note: str) -> None:
        """The worker's done-callback: hand the outcome to the UI thread through a signal."""
        if future.cancelled():  # the engine shut down before the benchmark began
            self.sig_failed.emit("benchmark cancelled")
            return
        error = future.exception()
        if error is None:
            self.sig_finished.emit([future.result()], note)
        else:
            self.sig_failed.emit(str(error) if isinstance(error, CabinError) else f"{type(error).__name__}: {error}")

    # -- showing -----------------------------------------------------------------------------
    def _show_results(self, results: list[BenchResult], note: str) -> None:
        seconds = time.monotonic() - self._started
        self._stop = None
        self.results = results
        cells = [row for result in results for row in result_rows(result)]
        self.table.setRowCount(len(cells))
        for row, values in enumerate(cells):
            for column, text in enumerate(values):
                item = QTableWidgetItem(text)
                if COLUMNS[column][1] > 0:  # llama-bench right-aligns its numbers
                    item.setTextAlignment(RIGHT)
                self.table.setItem(row, column, item)
        self.table.setFixedHeight(self.table.horizontalHeader().height() + sum(
            self.table.rowHeight(r) for r in range(len(cells))) + 2 * self.table.frameWidth())  # fmt: skip
        self.table.show()
        self.ratio_label.setText(f"<b>{ratio_line(*results)}</b>" if len(results) == 2 else "")
        self.ratio_label.setVisible(len(results) == 2)
        self.status.setText(" ".join(filter(None, [f"Done in {seconds:.0f} s; t/s is the mean ± standard deviation "
                                                   f"of {self.plan.repeats} runs.", note])))  # fmt: skip
        self._update_buttons()

    def _show_failure(self, message: str) -> None:
        self._stop = None
        self.status.setText(message)
        self._update_buttons()
