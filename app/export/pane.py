"""The Export pane: turn a model into a Core ML package for an iOS team, or an ONNX Runtime GenAI folder for an
Android team, with progress and a summary.

The export runs in a child process (`engine.coreml.process.start_export` or `engine.onnx.process.start_onnx_export`,
a `ChildJob`), so this pane never imports torch, onnx or MLX and the window stays responsive; a timer polls the job
ten times a second.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QFontDatabase
from PySide6.QtWidgets import QApplication, QHBoxLayout, QLabel, QPlainTextEdit, QProgressBar, QPushButton, QVBoxLayout, QWidget

from app.export.form import ExportForm
from engine.coreml.events import ExportSummary
from engine.coreml.process import start_export
from engine.coreml.summary import summary_text
from engine.errors import CabinError
from engine.jobs import ChildJob, JobEvent, JobFinished, JobProgress
from engine.onnx.options import OnnxExportOptions
from engine.onnx.process import start_onnx_export

POLL_MS = 100
INTRO = (
    "Turn a llama, qwen2, qwen3, mistral, phi3 or gemma3 model into a stateful Core ML package (iOS 18, macOS 15) "
    "with its tokenizer, test vectors and Swift code for your app, or into an ONNX Runtime GenAI folder for Android, "
    "run here against MLX before it is written. Exports run in the background; the window stays usable."
)


class ExportPane(QWidget):
    sig_finished = Signal(object)
    """An export finished; the argument is its `ExportSummary`."""
    sig_failed = Signal(str)
    """An export was refused, failed or was cancelled; the argument is the one-line reason."""

    def __init__(self, context: object | None = None) -> None:
        super().__init__()
        self.setWindowTitle("Export")
        self.job: ChildJob | None = None
        self.summary: ExportSummary | object | None = None
        self.form = ExportForm()
        self.export_button = QPushButton("Export")
        self.cancel_button = QPushButton("Cancel", enabled=False)
        self.reveal_button = QPushButton("Show in Folder", enabled=False)
        self.progress = QProgressBar(minimum=0, maximum=1000, textVisible=False)
        self.status = QLabel("", wordWrap=True)
        self.result = QPlainTextEdit(readOnly=True)
        self.result.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.result.setPlaceholderText("The export summary appears here: sizes, checks and the error of every weight.")
        self.timer = QTimer(self, interval=POLL_MS)
        self.timer.timeout.connect(self.poll)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.reveal_button.clicked.connect(self.reveal)
        self._layout()
        QApplication.instance().aboutToQuit.connect(self.shutdown)
        if context is not None:
            self._follow_loaded_model(context)

    def _layout(self) -> None:
        intro = QLabel(INTRO, wordWrap=True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.cancel_button)
        buttons.addStretch(1)
        buttons.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.form)
        layout.addLayout(buttons)
        layout.addWidget(self.progress)
        layout.addWidget(self.status)
        layout.addWidget(self.result, 1)

    def _follow_loaded_model(self, context: object) -> None:
        """Offer the model loaded in the chat, when the field is still empty."""
        models = context.models

        def update() -> None:
            if models.info and not self.form.model.text():
                self.form.model.setText(str(models.info.path))

        models.sig_changed.connect(update)
        update()

    @property
    def running(self) -> bool:
        return self.job is not None and not self.job.done

    def start(self) -> None:
        """Check the settings and start the export; a refusal is shown at once and nothing starts."""
        if self.running:
            return
        try:
            options = self.form.options()
            self.job = start_onnx_export(options) if isinstance(options, OnnxExportOptions) else start_export(options)
        except CabinError as e:
            self._show_failure(str(e))
            return
        self.summary = None
        self.result.clear()
        self.progress.setValue(0)
        self.status.setStyleSheet("")
        self.status.setText("Starting…")
        self._set_running(True)
        self.timer.start()

    def poll(self) -> None:
        if self.job is None:
            return
        for event in self.job.poll():
            self._show(event)

    def cancel(self) -> None:
        if self.running:
            self.job.cancel()
            self._show(self.job.result)

    def reveal(self) -> None:
        if self.summary:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.summary.out))

    def _show(self, event: JobEvent) -> None:
        if isinstance(event, JobProgress):
            self.progress.setValue(int(event.fraction * 1000))
            self.status.setText(event.message)
        elif isinstance(event, JobFinished):
            self._end()
            self.summary = event.result
            self.progress.setValue(1000)
            self.status.setText(f"Exported to {Path(self.summary.out) / getattr(self.summary, 'package', '')}")
            self.result.setPlainText(self._summary_text(self.summary))
            self.reveal_button.setEnabled(True)
            self.sig_finished.emit(self.summary)
        else:
            self._end()
            self.progress.setValue(0)
            self._show_failure(event.message)

    @staticmethod
    def _summary_text(summary: object) -> str:
        if isinstance(summary, ExportSummary):
            return summary_text(summary)
        from engine.onnx.summary import summary_text as onnx_summary_text

        return onnx_summary_text(summary)

    def _show_failure(self, message: str) -> None:
        self.status.setStyleSheet("color: #d03b3b;")
        self.status.setText(message[:1].upper() + message[1:] + ("" if message.endswith(".") else "."))
        self.sig_failed.emit(message)

    def _end(self) -> None:
        self.timer.stop()
        self._set_running(False)

    def _set_running(self, running: bool) -> None:
        self.form.setEnabled(not running)
        self.export_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.reveal_button.setEnabled(False)

    def shutdown(self) -> None:
        """Cancel a running export (the window is closing): its child process must not outlive the app."""
        self.cancel()
