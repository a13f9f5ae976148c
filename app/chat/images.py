"""Images in the chat window: read from a file or a paste with Qt (PNG, JPEG, and HEIC where Qt's image plugins read
it), shown as thumbnails: a removable chip in the composer, a read-only row on a sent message."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt, Signal
from PySide6.QtGui import QImage, QPalette, QPixmap
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QWidget

from engine.images import MAX_IMAGE_BYTES, ImageError, image_bytes, image_part
from engine.messages import Image

THUMBNAIL = 96
PASSED_THROUGH = {".png", ".jpg", ".jpeg"}
"""Kept byte for byte; anything else Qt reads (HEIC, WebP, ...) is stored as PNG."""


def image_from_file(path: Path) -> Image:
    """The file as a checked Image part; ImageError (one line) when Qt cannot read it as a picture."""
    try:
        if path.stat().st_size > MAX_IMAGE_BYTES:
            raise ImageError(f"{path.name} is {path.stat().st_size / 1024**2:,.0f} MB: too big to attach.")
        data = path.read_bytes()
    except OSError as e:
        raise ImageError(f"Could not read {path.name}: {e.strerror or e}.") from None
    if path.suffix.lower() in PASSED_THROUGH:
        return image_part(data, path.name)
    picture = QImage.fromData(QByteArray(data))
    if picture.isNull():
        raise ImageError(f"{path.name} is not an image this system can read (PNG and JPEG always are).")
    return image_from_qimage(picture, path.name)


def image_from_qimage(picture: QImage, name: str = "the pasted image") -> Image:
    """A pasted (or converted) picture as a PNG Image part."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    picture.save(buffer, "PNG")
    return image_part(bytes(buffer.data()), name)


def thumbnail(image: Image, size: int = THUMBNAIL) -> QPixmap:
    pixmap = QPixmap()
    try:
        pixmap.loadFromData(QByteArray(image_bytes(image)))
    except ImageError:
        return QPixmap()
    return pixmap.scaled(size, size, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)


class ImageChip(QFrame):
    """An image's thumbnail; in the composer with a ✕ that takes it off the message."""

    sig_remove = Signal()

    def __init__(self, image: Image, removable: bool) -> None:
        super().__init__()
        self.file = image
        """The Image part (named as a FileChip's, so the composer handles both alike)."""
        self.setObjectName("imageChip")
        border = self.palette().color(QPalette.ColorRole.Mid).name()
        self.setStyleSheet(f"QFrame#imageChip {{ border: 1px solid {border}; border-radius: 8px; }}")
        picture = QLabel()
        picture.setPixmap(thumbnail(image))
        picture.setToolTip("An image: the model sees it with the message")
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.addWidget(picture)
        self.remove_button: QToolButton | None = None
        if removable:
            self.remove_button = QToolButton()
            self.remove_button.setText("✕")
            self.remove_button.setToolTip("Remove this image")
            self.remove_button.setAutoRaise(True)
            self.remove_button.clicked.connect(self.sig_remove)
            row.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignTop)

    def show_file(self, image: Image) -> None:
        self.file = image


def thumbnail_row(images: list[Image]) -> QWidget:
    """Read-only thumbnails in a row, for a sent message."""
    row_widget = QWidget()
    row = QHBoxLayout(row_widget)
    row.setContentsMargins(0, 0, 0, 0)
    row.setSpacing(6)
    for image in images:
        row.addWidget(ImageChip(image, removable=False))
    row.addStretch(1)
    return row_widget
