"""Ask what to convert: a Hugging Face model folder or repo id, the bits and the group size."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from engine.models.convert import BITS, GROUP_SIZES

BITS_HELP = {8: "8-bit: near-lossless", 6: "6-bit", 4: "4-bit: the usual choice", 3: "3-bit", 2: "2-bit: smallest, weakest"}


class ConvertDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Convert a model to MLX")
        self.source = QLineEdit()
        self.source.setPlaceholderText("a model folder, or a repo id like Qwen/Qwen2.5-0.5B-Instruct")
        browse = QPushButton("Choose Folder…")
        browse.clicked.connect(self._browse)
        source_row = QHBoxLayout()
        source_row.addWidget(self.source, 1)
        source_row.addWidget(browse)
        self.bits = QComboBox()
        for bits in BITS:
            self.bits.addItem(BITS_HELP[bits], bits)
        self.bits.setCurrentIndex(BITS.index(4))
        self.group_size = QComboBox()
        for size in GROUP_SIZES:
            self.group_size.addItem(str(size), size)
        self.group_size.setCurrentIndex(GROUP_SIZES.index(64))
        self.group_size.setToolTip("Weights share a scale per group: smaller groups are more accurate and larger")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Convert")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.source.textChanged.connect(self._update_ok)
        form = QFormLayout(self)
        form.addRow("Source:", source_row)
        form.addRow("Bits:", self.bits)
        form.addRow("Group size:", self.group_size)
        form.addRow(QLabel("The converted model is saved with your models; the source is not changed."))
        form.addRow(self.buttons)
        self._update_ok()

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Hugging Face model folder")
        if folder:
            self.source.setText(folder)

    def _update_ok(self) -> None:
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setEnabled(bool(self.source.text().strip()))

    def choice(self) -> tuple[str, int, int]:
        return self.source.text().strip(), self.bits.currentData(), self.group_size.currentData()
