"""Polls the engine for memory and activity while the performance view is open: 2 Hz during an answer,
once a second otherwise. Readings are taken on the context's helper thread (on macOS, system memory
comes from sysctl and vm_stat) and handed to the UI thread by a queued signal; nothing here calls MLX.
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal

from app.context import AppContext
from app.performance.history import MemoryHistory
from engine.memory import MemoryReading
from engine.metrics import Activity

BUSY_INTERVAL_MS = 500
IDLE_INTERVAL_MS = 1000


class PerformanceMonitor(QObject):
    sig_updated = Signal()
    """A new reading arrived: read `memory`, `activity` and `history`."""
    sig_reading = Signal(object, object)
    """(MemoryReading, Activity) from the helper thread, or (None, None) when reading failed; queued to this
    object's thread."""

    def __init__(self, context: AppContext) -> None:
        super().__init__()
        self._context = context
        self.memory: MemoryReading | None = None
        self.activity = Activity()
        self.history = MemoryHistory()
        self._in_flight = False
        self._timer = QTimer(self, interval=IDLE_INTERVAL_MS)
        self._timer.timeout.connect(self.poll)
        self.sig_reading.connect(self._take)

    def start(self) -> None:
        self._timer.start()
        self.poll()

    def stop(self) -> None:
        self._timer.stop()

    @property
    def running(self) -> bool:
        return self._timer.isActive()

    def poll(self) -> None:
        """Ask for a reading unless one is still on its way."""
        if self._in_flight:
            return
        self._in_flight = True
        engine = self._context.engine
        future = self._context.background.submit(lambda: (engine.memory(), engine.activity()))
        future.add_done_callback(lambda f: self.sig_reading.emit(*(f.result() if f.exception() is None else (None, None))))

    def _take(self, memory: MemoryReading | None, activity: Activity | None) -> None:
        self._in_flight = False
        if memory is None:
            return
        self.memory, self.activity = memory, activity
        self.history.add(memory)
        self._timer.setInterval(BUSY_INTERVAL_MS if activity.generating else IDLE_INTERVAL_MS)
        self.sig_updated.emit()
