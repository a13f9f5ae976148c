"""The export settings form: model, destination, target (Core ML or ONNX), weights recipe, context and checks."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QWidget,
)

from engine.coreml.options import DEFAULT_GROUP_SIZE, ExportOptions
from engine.onnx.options import OnnxExportOptions

RECIPES = (
    ("4-bit palettes (iPhone Neural Engine)", "palettize", 4),
    ("6-bit palettes", "palettize", 6),
    ("8-bit palettes", "palettize", 8),
    ("3-bit palettes (smallest, least accurate)", "palettize", 3),
    ("2-bit palettes (experimental)", "palettize", 2),
    ("int4 blocks (Mac GPU)", "linear", 4),
    ("int8 blocks", "linear", 8),
    ("Keep an MLX 4/8-bit model's own weights (no second rounding)", "affine", 4),
    ("fp16, uncompressed", "fp16", 16),
)
ONNX_RECIPES = (
    ("int4 blocks (an MLX 4-bit model keeps its own weights)", "int4", 4),
    ("fp16 (half the size of fp32)", "fp16", 16),
    ("fp32, uncompressed", "fp32", 32),
)
TARGETS = (("Core ML (iPhone, iPad, Mac)", "coreml", RECIPES), ("ONNX Runtime GenAI (Android)", "onnx", ONNX_RECIPES))
ONNX_BLOCK_SIZE = 32


def path_row(edit: QLineEdit, button_text: str, choose) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    button = QPushButton(button_text)
    button.clicked.connect(choose)
    layout.addWidget(edit, 1)
    layout.addWidget(button)
    return row


class ExportForm(QWidget):
    """Collects an `ExportOptions` (Core ML) or an `OnnxExportOptions`; `options()` raises the same one-line errors
    the CLI shows."""

    def __init__(self) -> None:
        super().__init__()
        self.model = QLineEdit(placeholderText="a model folder, or a repo id like mlx-community/Qwen2.5-0.5B-Instruct-4bit")
        self.out = QLineEdit(placeholderText="the folder to create, e.g. ~/Desktop/MyModel-coreml")
        self.target = QComboBox()
        for label, target, _ in TARGETS:
            self.target.addItem(label, target)
        self.recipe = QComboBox()
        self._fill_recipes()
        self.group_size = QSpinBox(minimum=1, maximum=4096, value=DEFAULT_GROUP_SIZE["palettize"])
        self.group_size.setToolTip("Output channels sharing one palette, or input values per int4/int8 block")
        self.context = QSpinBox(minimum=16, maximum=131072, value=2048, singleStep=256, suffix=" tokens")
        self.compress_embeddings = QCheckBox("Compress the embedding table at 8 bits", checked=True)
        self.verify = QCheckBox("Check against MLX and run the saved program before finishing", checked=True)
        self.overwrite = QCheckBox("Replace the folder if it exists")
        self.recipe.currentIndexChanged.connect(self._recipe_changed)
        self.target.currentIndexChanged.connect(self._target_changed)

        form = QFormLayout(self)
        form.addRow("Model", path_row(self.model, "Choose…", self._choose_model))
        form.addRow("Export to", path_row(self.out, "Choose…", self._choose_out))
        form.addRow("Target", self.target)
        form.addRow("Weights", self.recipe)
        form.addRow("Group size", self.group_size)
        form.addRow("Context", self.context)
        form.addRow("", self.compress_embeddings)
        form.addRow("", self.verify)
        form.addRow("", self.overwrite)

    @property
    def onnx(self) -> bool:
        return self.target.currentData() == "onnx"

    def _fill_recipes(self) -> None:
        self.recipe.clear()
        for label, mode, bits in ONNX_RECIPES if self.onnx else RECIPES:
            self.recipe.addItem(label, (mode, bits))

    def _target_changed(self) -> None:
        self._fill_recipes()
        self.verify.setText("Run it with ONNX Runtime GenAI against MLX before finishing" if self.onnx
                            else "Check against MLX and run the saved program before finishing")  # fmt: skip
        self._recipe_changed()

    def _recipe_changed(self) -> None:
        if self.recipe.currentData() is None:
            return
        mode, _ = self.recipe.currentData()
        self.compress_embeddings.setVisible(not self.onnx)
        if self.onnx:
            self.group_size.setEnabled(mode == "int4")
            self.group_size.setValue(ONNX_BLOCK_SIZE)
            return
        self.group_size.setEnabled(mode in ("palettize", "linear"))
        self.compress_embeddings.setEnabled(mode in ("palettize", "linear"))
        if mode in ("palettize", "linear"):
            self.group_size.setValue(DEFAULT_GROUP_SIZE[mode])

    def _choose_model(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Model folder")
        if folder:
            self.model.setText(folder)

    def _choose_out(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export folder", str(Path.home() / "Model-coreml"))
        if path:
            self.out.setText(path)

    def options(self) -> ExportOptions | OnnxExportOptions:
        from engine.coreml.options import ExportError

        if not self.model.text().strip():
            raise ExportError("choose a model to export")
        if not self.out.text().strip():
            raise ExportError("choose a folder to export to")
        mode, bits = self.recipe.currentData()
        if self.onnx:
            return OnnxExportOptions(model=self.model.text().strip(), out=Path(self.out.text().strip()), precision=mode,
                                     block_size=self.group_size.value(), context=self.context.value(),
                                     overwrite=self.overwrite.isChecked(), verify=self.verify.isChecked())  # fmt: skip
        return ExportOptions(
            model=self.model.text().strip(),
            out=Path(self.out.text().strip()),
            mode=mode,
            bits=bits,
            group_size=self.group_size.value() if mode in ("palettize", "linear") else 0,
            context=self.context.value(),
            embeddings="8bit" if self.compress_embeddings.isChecked() else "fp16",
            overwrite=self.overwrite.isChecked(),
            verify=self.verify.isChecked(),
        )
