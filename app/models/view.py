"""The Models pane's widgets and their layout: the memory header, the models on this machine, the ones found
elsewhere, the catalogue, the task bar and the message line. No engine and no jobs here: the pane
(app/models/pane.py) reads the widgets and drives them."""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.dialogs import ask_to_confirm
from app.models.draft_choice import draft_button
from app.models.elsewhere_section import RUN_MISSING, FoundElsewhere
from app.models.tables import CATALOGUE_HEADERS, FIT_COLORS, INSTALLED_HEADERS, fill, make_table
from app.models.task_bar import TaskBar
from engine.models.fit import Verdict
from engine.models.gguf_model import can_run_gguf

CONTEXTS = (2048, 4096, 8192, 16384, 32768, 131072)
ERROR_COLOR = FIT_COLORS[Verdict.WONT_FIT]


def here(platform: str | None = None) -> str:
    """What the app calls this machine: "this Mac" only on a Mac (`platform`: sys.platform unless given)."""
    return "this Mac" if (platform or sys.platform) == "darwin" else "this computer"


def section_title(text: str) -> QLabel:
    label = QLabel(text)
    font = label.font()
    font.setBold(True)
    font.setPointSizeF(font.pointSizeF() * 1.1)
    label.setFont(font)
    return label


def empty_hint() -> QLabel:
    hint = QLabel(
        f"No models on {here()} yet. Download one from the catalogue below (the recommended ones fit this "
        "machine), run or import a GGUF file, add a model folder you already have, or convert a Hugging Face model."
    )
    hint.setWordWrap(True)
    hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    hint.setStyleSheet("color: palette(placeholder-text); padding: 24px")
    return hint


def run_gguf_button() -> QPushButton:
    """Run GGUF…: disabled, saying how to get llama.cpp, when llama-cpp-python is not installed."""
    button = QPushButton("Run GGUF…")
    button.setEnabled(can_run_gguf())
    button.setToolTip("Chat with a GGUF file as it is, on llama.cpp: nothing is copied" if can_run_gguf()
                      else RUN_MISSING)  # fmt: skip
    return button


def context_box(chosen: int) -> QComboBox:
    """The context lengths the fit check can plan for, `chosen` among them and selected."""
    box = QComboBox()
    choices = sorted({*CONTEXTS, chosen})
    for tokens in choices:
        box.addItem(f"{tokens:,} tokens", tokens)
    box.setCurrentIndex(choices.index(chosen))
    box.setToolTip("The conversation length the fit check plans for: longer needs more memory")
    return box


class ModelsView(QWidget):
    """Every widget of the Models pane, laid out; `context_length` is the fit check's first choice."""

    def __init__(self, context_length: int) -> None:
        super().__init__()
        self.setWindowTitle("Models")
        self.memory_label = QLabel(f"Checking {here()}'s memory…")
        self.memory_label.setWordWrap(True)
        self.context_box = context_box(context_length)
        self.installed = make_table(INSTALLED_HEADERS)
        self.empty_hint = empty_hint()
        self.installed_stack = QStackedWidget()
        self.installed_stack.addWidget(self.installed)
        self.installed_stack.addWidget(self.empty_hint)
        self.use_button = QPushButton("Use for Chat")
        self.delete_button = QPushButton("Delete…")
        self.draft_button = draft_button()
        self.add_button = QPushButton("Add Folder…")
        self.convert_button = QPushButton("Convert…")
        self.import_button = QPushButton("Import GGUF…")
        self.run_button = run_gguf_button()
        self.elsewhere = FoundElsewhere(section_title("Found elsewhere"), here())
        self.catalogue = make_table(CATALOGUE_HEADERS)
        self.search_field = QLineEdit()
        self.search_field.setPlaceholderText("Search mlx-community…")
        self.search_field.setClearButtonEnabled(True)
        self.search_field.setMinimumWidth(220)
        self.catalogue_button = QPushButton("Show Catalogue")
        self.download_button = QPushButton("Download")
        self.task = TaskBar()
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self._lay_out()

    # -- layout ------------------------------------------------------------------------------
    def _lay_out(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(self._header())
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._installed_section())
        splitter.addWidget(self.elsewhere)
        splitter.addWidget(self._catalogue_section())
        splitter.setChildrenCollapsible(False)
        for index, stretch in enumerate((2, 2, 3)):
            splitter.setStretchFactor(index, stretch)
        splitter.setSizes([200, 200, 300])
        layout.addWidget(splitter, 1)
        layout.addWidget(self.task)
        layout.addWidget(self.message)

    def _header(self) -> QHBoxLayout:
        row = QHBoxLayout()
        row.addWidget(self.memory_label, 1)
        row.addWidget(QLabel("Fit for"))
        row.addWidget(self.context_box)
        return row

    def _installed_section(self) -> QWidget:
        section = QWidget()
        column = QVBoxLayout(section)
        column.setContentsMargins(0, 8, 0, 8)
        self.installed_title = section_title(f"On {here()}")
        column.addWidget(self.installed_title)
        column.addWidget(self.installed_stack, 1)
        buttons = QHBoxLayout()
        for button in (self.use_button, self.delete_button, self.draft_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        for button in (self.run_button, self.import_button, self.add_button, self.convert_button):
            buttons.addWidget(button)
        column.addLayout(buttons)
        return section

    def _catalogue_section(self) -> QWidget:
        section = QWidget()
        column = QVBoxLayout(section)
        column.setContentsMargins(0, 8, 0, 0)
        title_row = QHBoxLayout()
        title_row.addWidget(section_title("Catalogue"))
        note = QLabel("mlx-community 4-bit models · sizes and needs are approximate")
        note.setStyleSheet("color: palette(placeholder-text)")
        note.setWordWrap(True)
        title_row.addWidget(note, 1)
        title_row.addWidget(self.search_field)
        title_row.addWidget(self.catalogue_button)
        column.addLayout(title_row)
        column.addWidget(self.catalogue, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.download_button)
        buttons.addStretch(1)
        column.addLayout(buttons)
        return section

    # -- showing -----------------------------------------------------------------------------
    @property
    def context_length(self) -> int:
        return self.context_box.currentData()

    def show_installed(self, rows: list[list[QTableWidgetItem]]) -> None:
        """The models on this machine, or the hint that there are none."""
        fill(self.installed, rows)
        self.installed_stack.setCurrentWidget(self.installed if rows else self.empty_hint)

    def say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(f"color: {ERROR_COLOR}" if error else "")
        self.message.setText(text)

    def ask_run_or_import(self, name: str) -> str | None:
        """For a GGUF dropped on the window: "run" (as it is, on llama.cpp), "import" (to MLX) or None (cancelled)."""
        box = QMessageBox(QMessageBox.Icon.Question, "Run or import?", f"Run or import {name}?", parent=self)
        box.setInformativeText("Run chats with the file as it is, on llama.cpp: nothing is copied. "
                               "Import converts it to an MLX model in Cabin's models folder, keeping its quantization.")
        run = box.addButton("Run", QMessageBox.ButtonRole.AcceptRole)
        imported = box.addButton("Import", QMessageBox.ButtonRole.ActionRole)
        box.addButton(QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(run)
        box.exec()
        clicked = box.clickedButton()
        return "run" if clicked is run else "import" if clicked is imported else None

    def confirm(self, question: str, detail: str, verb: str) -> bool:
        return ask_to_confirm(self, question, detail, verb)
