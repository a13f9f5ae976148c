"""The request channel: work for the worker thread, as (function, future) pairs run in the order they came.

Any thread may submit; only the worker serves. Closing cancels what has not started, so quitting never
waits for a queued model load or answer. Work may carry a tag saying what it is: a running batch takes the answers
at the front of the channel into itself between two steps (`take_front`), and stops at the first other work.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

T = TypeVar("T")
_CLOSED = object()


class RequestChannel:
    def __init__(self) -> None:
        self._requests: queue.Queue[Any] = queue.Queue()
        self._closing = False
        self._closing_lock = threading.Lock()

    def submit(self, fn: Callable[[], T], tag: Any = None) -> Future[T]:
        """Run `fn` on the worker, after everything already queued (cancelled once the channel is closed).

        `tag` says what the work is, for `take_front`."""
        future: Future[T] = Future()
        with self._closing_lock:
            if self._closing:
                future.cancel()
            else:
                self._requests.put((fn, future, tag))
        return future

    def front_is(self, accept: Callable[[Any], bool]) -> bool:
        """Whether the next work's tag is accepted by `accept`."""
        with self._requests.mutex:
            front = self._requests.queue[0] if self._requests.queue else _CLOSED
            return front is not _CLOSED and accept(front[2])

    def take_front(self, accept: Callable[[Any], bool]) -> tuple[Any, Future[Any]] | None:
        """On the worker: the next work's (tag, future) if `accept(tag)`, taken out of the channel and marked running;
        None when the channel is empty or its next work is not accepted (it stays first). Work cancelled while
        queued is skipped."""
        while True:
            with self._requests.mutex:
                front = self._requests.queue[0] if self._requests.queue else _CLOSED
                if front is _CLOSED or not accept(front[2]):
                    return None
                self._requests.queue.popleft()
            _fn, future, tag = front
            if future.set_running_or_notify_cancel():
                return tag, future

    def serve(self, after_each: Callable[[], None]) -> None:
        """On the worker: run each request, then `after_each()`, until the channel is closed."""
        while (request := self._requests.get()) is not _CLOSED:
            fn, future, _tag = request
            if not future.set_running_or_notify_cancel():
                continue
            try:
                future.set_result(fn())
            except BaseException as e:  # noqa: BLE001 — handed to the caller through the future
                future.set_exception(e)
            after_each()

    def waiting(self) -> bool:
        """Whether work is queued behind the request running now."""
        return not self._requests.empty()

    def close(self) -> None:
        """Refuse new work, cancel the work not yet started, and end `serve` once the running request returns."""
        with self._closing_lock:
            self._closing = True
            self._cancel_queued()
            self._requests.put(_CLOSED)

    def _cancel_queued(self) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request is not _CLOSED:
                request[1].cancel()
