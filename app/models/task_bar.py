"""The running download or conversion at the foot of the Models pane."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget


class TaskBar(QWidget):
    """The running download or conversion: what, how far, how fast, and a Cancel button."""

    def __init__(self) -> None:
        super().__init__()
        self.title = QLabel()
        self.bar = QProgressBar()
        self.bar.setTextVisible(False)
        self.bar.setFixedHeight(10)
        self.detail = QLabel()
        self.detail.setStyleSheet("color: palette(placeholder-text)")
        self.cancel = QPushButton("Cancel")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.detail)
        column = QVBoxLayout()
        column.addLayout(top)
        column.addWidget(self.bar)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 4)
        layout.addLayout(column, 1)
        layout.addWidget(self.cancel)
        self.hide()

    def start(self, title: str) -> None:
        self.title.setText(title)
        self.detail.setText("starting…")
        self.bar.setRange(0, 0)
        self.cancel.setEnabled(True)
        self.show()

    def show_fraction(self, fraction: float | None, detail: str) -> None:
        if fraction is None:
            self.bar.setRange(0, 0)
        else:
            self.bar.setRange(0, 1000)
            self.bar.setValue(int(fraction * 1000))
        self.detail.setText(detail)
