"""The Models pane's "Found elsewhere" section: models Ollama, LM Studio, llama.cpp or the Hugging Face cache keep
on this computer, each with an Import button (Add, for an MLX folder)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QStackedWidget, QTableWidgetItem, QVBoxLayout, QWidget

from app.models.tables import FIT_COLORS, cell, fill, fit_cell, make_table
from engine.memory import format_bytes
from engine.models.elsewhere import FoundModel
from engine.models.fit import Fit, Verdict

HEADERS = ["Model", "From", "Architecture", "Quant", "Size", "Fit", ""]
BUTTON_COLUMN = len(HEADERS) - 1
MIN_TABLE_HEIGHT = 48  # a header and one row: the third section must not make the window's minimum taller
NOTE = "GGUF models from Ollama, LM Studio, llama.cpp and the Hugging Face cache · importing copies, the original stays"


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

    def __init__(self, title: QLabel, where: str = "this computer") -> None:
        """`where`: what the empty hint calls this machine ("this Mac" on a Mac)."""
        super().__init__()
        self.models: list[FoundModel] = []
        self.buttons: list[QPushButton] = []
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
