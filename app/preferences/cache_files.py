"""Under the size limit of the prompt-cache files: the space they take now (kept current while the window is
shown, as chats beside it add files) and a button that deletes them all."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import QTimer
from PySide6.QtGui import QHideEvent, QShowEvent
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from engine.generation import Engine
from engine.generation.disk_cache import MB

REFRESH_MS = 1000
HINT_STYLE = "color: palette(placeholder-text)"


def usage_text(used: int) -> str:
    if not used:
        return "No prompt caches saved · 0 turns saving off"
    size = f"{used / MB:,.1f} MB" if used >= MB / 10 else f"{max(1, round(used / 1024))} KB"
    return f"Using {size} now"


class CacheFilesRow(QWidget):
    def __init__(self, engine: Engine) -> None:
        super().__init__()
        self._engine = engine
        self.usage = QLabel()
        self.usage.setStyleSheet(HINT_STYLE)
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Delete every saved prompt cache (conversations keep their history)")
        self.clear_button.clicked.connect(self.clear)
        self._timer = QTimer(self)
        self._timer.setInterval(REFRESH_MS)
        self._timer.timeout.connect(self.refresh)
        self.task: asyncio.Future[None] | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.usage, 1)
        layout.addWidget(self.clear_button)
        self.refresh()

    def refresh(self) -> None:
        folder = self._engine.cache_folder
        used = folder.usage() if folder is not None else 0
        self.usage.setText(usage_text(used))
        self.clear_button.setEnabled(used > 0)

    def clear(self) -> None:
        self.clear_button.setEnabled(False)
        self.task = asyncio.ensure_future(self._clear())

    async def _clear(self) -> None:
        await asyncio.wrap_future(self._engine.clear_cache_files())
        self.refresh()

    def showEvent(self, event: QShowEvent) -> None:  # noqa: N802 — Qt's name
        self.refresh()
        self._timer.start()
        super().showEvent(event)

    def hideEvent(self, event: QHideEvent) -> None:  # noqa: N802 — Qt's name
        self._timer.stop()
        super().hideEvent(event)
