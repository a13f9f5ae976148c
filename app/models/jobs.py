"""Work the Models pane runs off the UI thread, watched by one UI timer.

Short reads (listing, memory budget, search) are futures; long jobs (download, convert, import) also
carry a cancel flag and their latest progress, which the timer shows at most 10 times a second. A long
job ends with one of the child-job runner's events (engine/jobs.py): `JobFinished`, `JobFailed` or
`JobCancelled`; its progress is a `JobProgress` (a download reports its own `DownloadProgress`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

from PySide6.QtCore import QObject, QTimer

from engine.errors import CabinError, CancelledByUser
from engine.jobs import JobCancelled, JobEnd, JobFailed, JobFinished

POLL_MS = 100


def run_in_thread(fn: Callable[[], Any], name: str) -> Future:
    future: Future = Future()

    def run() -> None:
        try:
            future.set_result(fn())
        except BaseException as e:  # noqa: BLE001 — handed to the UI through the future
            future.set_exception(e)

    threading.Thread(target=run, name=name, daemon=True).start()
    return future


class Job:
    """A long, cancellable piece of work: `fn(report, cancel)` runs on its own thread."""

    def __init__(self, title: str, fn: Callable[[Callable[[Any], None], threading.Event], Any]) -> None:
        self.title = title
        self.cancel = threading.Event()
        self.latest: Any = None
        self.future = run_in_thread(lambda: fn(self._report, self.cancel), f"cabin-{title}")

    def _report(self, progress: Any) -> None:
        self.latest = progress

    def end(self) -> JobEnd:
        """How the finished job ended; a bug (an error that is not a CabinError) is raised, not reported."""
        try:
            return JobFinished(self.future.result())
        except CancelledByUser as e:
            return JobCancelled(str(e))
        except CabinError as e:
            return JobFailed(str(e))


class Watcher(QObject):
    """Calls `on_done(future)` on the UI thread when a future finishes, and `tick()` while any is pending."""

    def __init__(self, tick: Callable[[], None]) -> None:
        super().__init__()
        self._tick = tick
        self._pending: list[tuple[Future, Callable[[Future], None]]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self._poll)

    def watch(self, future: Future, on_done: Callable[[Future], None]) -> None:
        self._pending.append((future, on_done))
        self._timer.start()

    @property
    def busy(self) -> bool:
        return bool(self._pending)

    def _poll(self) -> None:
        self._tick()
        done = [(f, cb) for f, cb in self._pending if f.done()]
        self._pending = [(f, cb) for f, cb in self._pending if not f.done()]
        for future, on_done in done:
            on_done(future)
        if not self._pending:
            self._timer.stop()
