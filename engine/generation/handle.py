"""A handle on one answer: its events come back through it, and it carries the stop request to the worker."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import Future

from engine.generation.events import Event, Finished

LOOP_DELIVERY_INTERVAL = 0.04
"""Seconds between two hand-overs of events to an asyncio loop (an API stream). Each hand-over wakes the loop, and
through it the client: once per token, at llama.cpp's ~80 tok/s on a 2-core machine, those wake-ups cost the
decode thread ~10% (bench/api_vs_engine.py). 25 deliveries a second still stream smoothly."""


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
        self._held: list[Event] = []
        """Events waiting for the next delivery to the loop (worker thread only)."""
        self._delivered_at = -LOOP_DELIVERY_INTERVAL
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
        """Hand events to the loop at most every LOOP_DELIVERY_INTERVAL (the first at once, Finished with all before it)."""
        self._held.append(event)
        now = time.monotonic()
        if not isinstance(event, Finished) and now - self._delivered_at < LOOP_DELIVERY_INTERVAL:
            return
        events, self._held, self._delivered_at = self._held, [], now
        try:
            self._loop.call_soon_threadsafe(self._put_all, events)
        except RuntimeError:
            pass  # the loop is closed (the app is quitting): nobody can read the event, but `finished` is still set

    def _put_all(self, events: list[Event]) -> None:
        for event in events:
            self._async_queue.put_nowait(event)

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
