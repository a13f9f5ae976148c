"""Where the user writes: Enter sends, Shift+Enter starts a new line, ⌘↩ (Ctrl+Enter) also sends.
The Send button turns into Stop while an answer is being written. Files dropped on it (or chosen with the
paperclip) are attached: a chip above the text box shows each, and its ✕ takes it off again."""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.chat.chips import FileChip, paperclip_icon
from app.chat.images import ImageChip
from engine.messages import File, Image

MAX_LINES = 10
HINT_STYLE = "font-size: 11px; color: palette(placeholder-text)"
FILE_FILTER = ("Text, Markdown, code and PDF files (*);;PDF files (*.pdf);;Markdown (*.md *.markdown);;Text (*.txt)"
               ";;Images, for a vision model (*.png *.jpg *.jpeg *.heic *.heif *.webp *.gif *.bmp)")


def local_files(mime: QMimeData) -> list[Path]:
    """The local files a drag or a paste carries (none for plain text)."""
    return [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()] if mime.hasUrls() else []


class PromptEdit(QPlainTextEdit):
    """A text box that grows with its text (up to MAX_LINES) and sends on Enter."""

    sig_submit = Signal()
    sig_cancel = Signal()
    """Escape was pressed (an in-place edit of a message is abandoned)."""
    sig_files = Signal(list)
    """Files were dropped or pasted into the box: their Paths (their text is not inserted)."""
    sig_image = Signal(object)
    """A picture was pasted into the box (a QImage)."""

    def __init__(self) -> None:
        super().__init__()
        self.setTabChangesFocus(True)
        self.document().documentLayout().documentSizeChanged.connect(self._fit_height)
        self._fit_height()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 — Qt override
        if event.key() == Qt.Key.Key_Escape:
            self.sig_cancel.emit()
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            mods = event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier
            if mods in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.ControlModifier):
                # Qt reports ⌘ as Control on macOS, so this is also ⌘↩ there.
                self.sig_submit.emit()
                return
            if mods == Qt.KeyboardModifier.ShiftModifier:
                self.insertPlainText("\n")
                return
        super().keyPressEvent(event)

    def canInsertFromMimeData(self, source: QMimeData) -> bool:  # noqa: N802 — Qt override
        return bool(local_files(source)) or source.hasImage() or super().canInsertFromMimeData(source)

    def insertFromMimeData(self, source: QMimeData) -> None:  # noqa: N802 — Qt override
        files = local_files(source)
        if not files and source.hasImage():
            self.sig_image.emit(source.imageData())
        elif files:
            self.sig_files.emit(files)
        else:
            super().insertFromMimeData(source)

    def _fit_height(self, *_size) -> None:
        lines = min(max(self.document().lineCount(), 1), MAX_LINES)
        margins = self.contentsMargins().top() + self.contentsMargins().bottom()
        padding = 2 * int(self.document().documentMargin())
        self.setFixedHeight(lines * self.fontMetrics().lineSpacing() + margins + padding + 4)


class Composer(QWidget):
    sig_send = Signal(str)
    """Send was asked for with this text; the attached files are in `attachments`."""
    sig_stop = Signal()
    sig_attach = Signal(list)
    """The user dropped or chose files to attach (Paths); whoever reads them calls `add_attachment`."""
    sig_attach_image = Signal(object)
    """The user pasted a picture (a QImage) to attach."""

    def __init__(self) -> None:
        super().__init__()
        self.edit = PromptEdit()
        self.edit.setPlaceholderText("Message Cabin")
        self.button = QPushButton("Send")
        self.button.setMinimumWidth(72)
        self.button.clicked.connect(self._clicked)
        self.edit.sig_submit.connect(self._submit)
        self.edit.sig_files.connect(self.sig_attach)
        self.edit.sig_image.connect(self.sig_attach_image)
        self.attach_button = QToolButton()
        self.attach_button.setToolTip("Attach a text, Markdown, code or PDF file (or drop it here)")
        self.attach_button.setAutoRaise(True)
        self.attach_button.clicked.connect(self.choose_files)
        send_key = "⌘↩" if sys.platform == "darwin" else "Ctrl+Enter"
        self._hint_text = f"Enter to send · Shift+Enter for a new line · {send_key} also sends · Esc stops"
        self.hint = QLabel(self._hint_text)
        self.hint.setStyleSheet(HINT_STYLE)
        self.hint.setWordWrap(True)
        self.chips: list[FileChip] = []
        self.chip_bar = QWidget()
        self._chip_row = QHBoxLayout(self.chip_bar)
        self._chip_row.setContentsMargins(0, 0, 0, 0)
        self._chip_row.setSpacing(6)
        self._chip_row.addStretch(1)
        self.chip_bar.hide()
        row = QHBoxLayout()
        row.addWidget(self.attach_button, 0, Qt.AlignmentFlag.AlignBottom)
        row.addWidget(self.edit, 1)
        row.addWidget(self.button, 0, Qt.AlignmentFlag.AlignBottom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 8, 16, 8)
        layout.setSpacing(4)
        layout.addWidget(self.chip_bar)
        layout.addLayout(row)
        layout.addWidget(self.hint)
        self.setAcceptDrops(True)
        self._busy = False
        self._style()

    def _style(self) -> None:
        self.attach_button.setIcon(paperclip_icon(self.palette().color(QPalette.ColorRole.Text)))

    def changeEvent(self, event: QEvent) -> None:  # noqa: N802 — Qt override
        super().changeEvent(event)
        if event.type() == QEvent.Type.ApplicationPaletteChange:
            self._style()

    # -- attachments -------------------------------------------------------------------------
    @property
    def attachments(self) -> list[File | Image]:
        return [chip.file for chip in self.chips]

    def add_attachment(self, file: File | Image) -> None:
        chip = ImageChip(file, removable=True) if isinstance(file, Image) else FileChip(file, removable=True)
        chip.sig_remove.connect(lambda: self.remove_attachment(chip))
        self.chips.append(chip)
        self._chip_row.insertWidget(len(self.chips) - 1, chip)
        self.chip_bar.show()

    def replace_attachment(self, old: File, new: File) -> None:
        """Show `new` in the chip of `old` (e.g. counted again with another model's tokenizer)."""
        for chip in self.chips:
            if chip.file is old:
                chip.show_file(new)

    def remove_file(self, file: File) -> None:
        for chip in [c for c in self.chips if c.file is file]:
            self.remove_attachment(chip)

    def remove_attachment(self, chip: FileChip) -> None:
        self.chips.remove(chip)
        self._chip_row.removeWidget(chip)
        chip.deleteLater()
        self.chip_bar.setVisible(bool(self.chips))

    def choose_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(self, "Attach Files", "", FILE_FILTER)
        if paths:
            self.sig_attach.emit([Path(p) for p in paths])

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 — Qt override
        if local_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 — Qt override
        files = local_files(event.mimeData())
        if files:
            self.sig_attach.emit(files)
            event.acceptProposedAction()

    # -- sending -----------------------------------------------------------------------------
    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        self.button.setText("Stop" if busy else "Send")

    def _clicked(self) -> None:
        if self._busy:
            self.sig_stop.emit()
        else:
            self._submit()

    def _submit(self) -> None:
        text = self.edit.toPlainText()
        if self._busy or not (text.strip() or self.chips):
            return
        self.sig_send.emit(text)

    def clear(self) -> None:
        """Empty the box and take every attachment off (the message was sent)."""
        self.edit.clear()
        for chip in list(self.chips):
            self.remove_attachment(chip)
        self.show_notice("")

    def show_notice(self, text: str) -> None:
        """A message under the text box (e.g. why nothing was sent); empty brings back the key hints."""
        self.hint.setText(text or self._hint_text)
        self.hint.setStyleSheet("font-size: 11px; color: #c62828" if text else HINT_STYLE)
