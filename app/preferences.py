"""Preferences (⌘,): how answers are sampled and the system prompt new chats start with."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from app.settings import Settings


class PreferencesDialog(QDialog):
    def __init__(self, settings: Settings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self._settings = settings
        self.temperature = QDoubleSpinBox(minimum=0.0, maximum=2.0, singleStep=0.1, decimals=2)
        self.temperature.setValue(settings.get("temperature"))
        self.temperature.setToolTip("0 always picks the likeliest word; higher is more varied")
        self.top_p = QDoubleSpinBox(minimum=0.05, maximum=1.0, singleStep=0.05, decimals=2)
        self.top_p.setValue(settings.get("top_p"))
        self.max_tokens = QSpinBox(minimum=16, maximum=131_072, singleStep=256)
        self.max_tokens.setValue(settings.get("max_tokens"))
        self.system_prompt = QPlainTextEdit(settings.get("default_system_prompt"))
        self.system_prompt.setPlaceholderText("Instructions every new chat starts with (optional)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Top-p:", self.top_p)
        form.addRow("Longest answer (tokens):", self.max_tokens)
        form.addRow("System prompt for new chats:", self.system_prompt)
        form.addRow(buttons)

    def accept(self) -> None:
        values = {
            "temperature": self.temperature.value(),
            "top_p": self.top_p.value(),
            "max_tokens": self.max_tokens.value(),
            "default_system_prompt": self.system_prompt.toPlainText(),
        }
        for key, value in values.items():
            self._settings.set(key, value)
        super().accept()
