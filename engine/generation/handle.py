"""A handle on one answer: its events come back through it, and it carries the stop request to the worker."""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future

from engine.generation.events import Event, Finished


class Generation:
    """A handle on one answer being generated: iterate its events, or stop it.

    Created with an asyncio loop, events are delivered on that loop (`async for`); otherwise
    through a thread-safe queue (`for`, or `drain()` from a UI timer).
    """

    def __init__(self, loop: asyncio.AbstractEventLoop | None = None) -> None:
        self._stop = threading.Event()
        self._loop = loop
        self._queue: queue.Queue[Event] = queue.Queue()
        self._async_queue: asyncio.Queue[Event] | None = asyncio.Queue() if loop else None
        self.finished: Future[Finished] = Future()

    def stop(self) -> None:
        """Ask the worker to end this answer; it does within one token (or one prefill chunk)."""
        self._stop.set()

    @property
    def stop_requested(self) -> threading.Event:
        return self._stop

    def emit(self, event: Event) -> None:
        """Called on the worker thread (or by whoever cancels the answer before it started)."""
        if self._loop is not None:
            self._deliver_on_loop(event)
        else:
            self._queue.put(event)
        if isinstance(event, Finished):
            self.finished.set_result(event)

    def _deliver_on_loop(self, event: Event) -> None:
        try:
            self._loop.call_soon_threadsafe(self._async_queue.put_nowait, event)
        except RuntimeError:
            pass  # the loop is closed (the app is quitting): nobody can read the event, but `finished` is still set

    def drain(self) -> list[Event]:
        """Every event that has arrived so far, without waiting."""
        events = []
        while True:
            try:
                events.append(self._queue.get_nowait())
            except queue.Empty:
                return events

    def __iter__(self) -> Iterator[Event]:
        while True:
            event = self._queue.get()
            yield event
            if isinstance(event, Finished):
                return

    async def __aiter__(self) -> AsyncIterator[Event]:
        while True:
            event = await self._async_queue.get()
            yield event
            if isinstance(event, Finished):
                return

    async def batches(self) -> AsyncIterator[list[Event]]:
        """Like `async for`, but each step brings every event that has arrived (at least one).

        A consumer that falls behind (a slow client, a busy loop) catches up in one step instead of
        paying its per-event cost (a network write) for each token.
        """
        while True:
            events = [await self._async_queue.get()]
            while not self._async_queue.empty():
                events.append(self._async_queue.get_nowait())
            yield events
            if isinstance(events[-1], Finished):
                return

    def result(self, timeout: float | None = None) -> Finished:
        return self.finished.result(timeout)
