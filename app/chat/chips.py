"""A file attached to a message, shown as a chip: its name and how many tokens it takes. In the composer a chip
has a ✕ to remove the file before sending; on a sent message it is read-only."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QIcon, QPainter, QPalette, QPixmap
from PySide6.QtSvg import QSvgRenderer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QStyle, QToolButton, QWidget

from engine.messages import File

PAPERCLIP = (  # Feather's "paperclip" (MIT), stroked in the given colour
    '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" stroke="{color}" stroke-width="2" '
    'stroke-linecap="round" stroke-linejoin="round"><path d="M21.44 11.05l-9.19 9.19a6 6 0 0 1-8.49-8.49l9.19-9.19'
    'a4 4 0 0 1 5.66 5.66l-9.2 9.19a2 2 0 0 1-2.83-2.83l8.49-8.48"/></svg>'
)


def paperclip_icon(color: QColor, size: int = 18) -> QIcon:
    """A paperclip drawn at 2× for sharp edges on Retina screens (no emoji font is needed)."""
    pixmap = QPixmap(size * 2, size * 2)
    pixmap.fill(Qt.GlobalColor.transparent)
    renderer = QSvgRenderer(QByteArray(PAPERCLIP.format(color=color.name()).encode()))
    painter = QPainter(pixmap)
    renderer.render(painter, QRectF(0, 0, size * 2, size * 2))
    painter.end()
    pixmap.setDevicePixelRatio(2)
    return QIcon(pixmap)


def chip_text(file: File) -> str:
    """"report.pdf · 1,234 tokens" (just the name when it was never counted)."""
    return f"{file.name} · {file.tokens:,} tokens" if file.tokens is not None else file.name or "file"


class FileChip(QFrame):
    sig_remove = Signal()
    """The ✕ was clicked: take this file off the message."""

    def __init__(self, file: File, removable: bool) -> None:
        super().__init__()
        self.file = file
        self.setObjectName("fileChip")
        border = self.palette().color(QPalette.ColorRole.Mid).name()
        self.setStyleSheet(f"QFrame#fileChip {{ border: 1px solid {border}; border-radius: 8px; }}")
        icon = QLabel()
        icon.setPixmap(self.style().standardIcon(QStyle.StandardPixmap.SP_FileIcon).pixmap(QSize(14, 14)))
        self.label = QLabel()
        self.show_file(file)
        row = QHBoxLayout(self)
        row.setContentsMargins(6, 2, 4 if removable else 8, 2)
        row.setSpacing(4)
        row.addWidget(icon)
        row.addWidget(self.label)
        self.remove_button: QToolButton | None = None
        if removable:
            self.remove_button = QToolButton()
            self.remove_button.setText("✕")
            self.remove_button.setToolTip(f"Remove {file.name}")
            self.remove_button.setAutoRaise(True)
            self.remove_button.clicked.connect(self.sig_remove)
            row.addWidget(self.remove_button)

    def show_file(self, file: File) -> None:
        self.file = file
        self.label.setText(chip_text(file))
        self.label.setToolTip(f"{file.name}: its text goes into the message")


def chip_row(files: list[File]) -> QWidget:
    """Read-only chips in a row, for a sent message."""
    row_widget = QWidget()
    row = QHBoxLayout(row_widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    for file in files:
        row.addWidget(FileChip(file, removable=False))
    row.addStretch(1)
    return row_widget
