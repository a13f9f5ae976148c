"""The Models pane's "Found elsewhere" section: models Ollama, LM Studio, llama.cpp or the Hugging Face cache keep
on this computer, each with an Import button (Add, for an MLX folder); a GGUF also has Run (as it is, on llama.cpp),
disabled with a tooltip saying how to get llama.cpp when it is not installed."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.models.tables import FIT_COLORS, cell, fill, fit_cell, make_table
from engine.memory import format_bytes
from engine.models.elsewhere import FoundModel
from engine.models.fit import Fit, Verdict
from engine.models.gguf_model import can_run_gguf

HEADERS = ["Model", "From", "Architecture", "Quant", "Size", "Fit", "", ""]
BUTTON_COLUMN = len(HEADERS) - 1
RUN_COLUMN = BUTTON_COLUMN - 1
MIN_TABLE_HEIGHT = 48  # a header and one row: the third section must not make the window's minimum taller
NOTE = ("GGUF models from Ollama, LM Studio, llama.cpp and the Hugging Face cache · Run uses the file as it is "
        "(llama.cpp), Import makes an MLX copy; the original stays")
RUN_MISSING = ("Running a GGUF as it is needs llama-cpp-python: install it with scripts/setup.sh. "
               "Import converts it to MLX instead.")


def found_row(model: FoundModel, fit: Fit | None) -> list[QTableWidgetItem]:
    name = cell(model.name, str(model.path), tooltip=str(model.path))
    size = cell(format_bytes(model.size_bytes) if model.size_bytes else "—")
    if not model.usable:
        short = model.problem.split(":")[0]  # "it is truncated", "shard 2 of 3": the details are in the tooltip
        status = cell(short, tooltip=model.problem, color=FIT_COLORS[Verdict.WONT_FIT])
        return [name, cell(model.source), cell("—"), cell("—"), size, status]
    return [name, cell(model.source), cell(model.architecture), cell(model.quant), size, fit_cell(fit)]


class FoundElsewhere(QWidget):
    sig_import = Signal(object)
    """The user chose Import (or Add) on a row: the FoundModel."""
    sig_run = Signal(object)
    """The user chose Run on a GGUF's row: the FoundModel."""

    def __init__(self, title: QLabel, where: str = "this computer") -> None:
        """`where`: what the empty hint calls this machine ("this Mac" on a Mac)."""
        super().__init__()
        self.models: list[FoundModel] = []
        self.buttons: list[QPushButton] = []
        self.run_buttons: dict[int, QPushButton] = {}
        """By row: GGUF rows only."""
        self.table = make_table(HEADERS)
        self.table.setMinimumHeight(MIN_TABLE_HEIGHT)
        self.empty_hint = QLabel(f"No models from Ollama, LM Studio or llama.cpp on {where}.")
        self.empty_hint.setWordWrap(True)
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_hint.setStyleSheet("color: palette(placeholder-text); padding: 12px")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty_hint)
        note = QLabel(NOTE)
        note.setStyleSheet("color: palette(placeholder-text)")
        note.setWordWrap(True)
        title_row = QHBoxLayout()
        title_row.addWidget(title)
        title_row.addWidget(note, 1)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 8, 0, 0)
        column.addLayout(title_row)
        column.addWidget(self.stack, 1)

    def show_models(self, models: list[FoundModel], fit: Callable[[FoundModel], Fit | None], idle: bool) -> None:
        """Fill the table; Import buttons are enabled only while no other job runs (`idle`)."""
        self.models = models
        fill(self.table, [found_row(m, fit(m)) for m in models])
        self.buttons = [self._button(m) for m in models]
        for row, button in enumerate(self.buttons):
            self.table.setCellWidget(row, BUTTON_COLUMN, button)
        self.run_buttons = {row: self._run_button(m) for row, m in enumerate(models) if m.kind == "gguf"}
        for row in range(len(models)):
            if row in self.run_buttons:
                self.table.setCellWidget(row, RUN_COLUMN, self.run_buttons[row])
            else:
                self.table.removeCellWidget(row, RUN_COLUMN)
        self.set_idle(idle)
        self.stack.setCurrentWidget(self.table if models else self.empty_hint)

    def set_idle(self, idle: bool) -> None:
        for model, button in zip(self.models, self.buttons, strict=True):
            button.setEnabled(idle and model.importable)

    def _button(self, model: FoundModel) -> QPushButton:
        verb = "Import" if model.kind == "gguf" else "Add"
        button = QPushButton(f"{verb}ed" if model.in_cabin else verb)
        button.setToolTip(model.problem if not model.usable else model.import_command)
        button.clicked.connect(lambda _checked=False, m=model: self.sig_import.emit(m))
        return button

    def _run_button(self, model: FoundModel) -> QPushButton:
        """Run: enabled for a usable GGUF when llama.cpp is installed (an import running meanwhile does not matter)."""
        button = QPushButton("Run")
        runnable = can_run_gguf()
        button.setEnabled(model.usable and runnable)
        if not model.usable:
            button.setToolTip(model.problem)
        else:
            button.setToolTip(f"Chat with {model.name} as it is, on llama.cpp: nothing is copied" if runnable
                              else RUN_MISSING)  # fmt: skip
        button.clicked.connect(lambda _checked=False, m=model: self.sig_run.emit(m))
        return button
