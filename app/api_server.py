"""The app's "Serve Local API" switch: the OpenAI- and Ollama-compatible server on the window's qasync loop.

The server shares the app's engine, so API clients use the model the window has loaded, and their
requests queue on the engine's worker behind the chat's own. The switch is remembered across launches.
The server (aiohttp) is imported when the switch is first turned on, not before the window paints.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel

from app.context import AppContext
from engine.errors import CabinError

if TYPE_CHECKING:
    from engine.server import Served, ServerHandle


class ApiServerControl(QObject):
    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self.context = context
        self.handle: ServerHandle | None = None
        self.error = ""
        self.task: asyncio.Task | None = None
        """The latest start or stop, for whoever needs to wait for it."""
        self.action = QAction("Serve Local API (OpenAI && Ollama)", self, checkable=True)
        self.action.setStatusTip("Let other apps on this Mac use the loaded model through an OpenAI- or Ollama-style API")
        self.action.toggled.connect(self._toggled)
        self.label = QLabel()
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.label.setContentsMargins(0, 0, 12, 0)
        self.label.hide()

    def restore(self) -> None:
        """Turn the server on if it was on when the app last closed (needs the running loop)."""
        if self.context.settings.get("api_server"):
            self.action.setChecked(True)

    def shutdown(self) -> None:
        """The window is closing: stop answering and release the port (a start under way is stopped once done).

        The loop must keep running until `stopped()` returns: in-flight answers report their end on it.
        """
        starting = self.task if self.task is not None and not self.task.done() else None
        if self.handle is not None or starting is not None:
            self.task = asyncio.ensure_future(self._stop_after(starting))

    async def stopped(self) -> None:
        """Return once the latest start or stop has finished."""
        if self.task is not None:
            await asyncio.wait([self.task])

    async def _stop_after(self, starting: asyncio.Task | None) -> None:
        if starting is not None:
            await asyncio.wait([starting])
        await self._stop()

    def _toggled(self, on: bool) -> None:
        self.context.settings.set("api_server", on)
        self.task = asyncio.ensure_future(self._start() if on else self._stop())

    async def _start(self) -> None:
        from engine.server import ServerConfig, start_server

        if self.handle is not None:
            return
        # The window's model is never swapped or unloaded under the user: other models are refused (409).
        config = ServerConfig(port=int(self.context.settings.get("api_port")), swap_models=False, keep_alive=None)
        try:
            self.handle = await start_server(self.context.engine, config)
        except CabinError as e:
            self.action.setChecked(False)
            self.error = str(e)
        else:
            self.error = ""
            self.handle.on_served(self._served)
        self._show()

    async def _stop(self) -> None:
        handle, self.handle = self.handle, None
        self._show()
        if handle is not None:
            await handle.close()

    def _served(self, _served: Served) -> None:
        self._show()

    def _show(self) -> None:
        if self.handle is not None:
            count = len(self.handle.activity)
            served = f" · {count} request{'s' if count != 1 else ''} served" if count else ""
            self.label.setText(f"Local API on {self.handle.url}{served}")
            self.label.setToolTip(f"OpenAI base URL: {self.handle.url}/v1\nOllama host: {self.handle.url}")
            self.label.setStyleSheet("")
        else:
            self.label.setText(f"Local API off: {self.error}" if self.error else "")
            self.label.setToolTip("")
            self.label.setStyleSheet("color: #c62828" if self.error else "")
        self.label.setVisible(bool(self.label.text()))
