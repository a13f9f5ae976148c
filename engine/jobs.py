"""Run one long job (a conversion, a GGUF import, a Core ML export) in a child process: progress, cancel,
and nothing half-written.

Such a job needs MLX or torch, which in this process belong to the engine's worker thread (or are not
loaded at all); it can use as much memory as the model; and a cancel must stop it at once. So it runs
in a spawned child, `target(*args, report)`, that reports `JobProgress` itself over a pipe. The parent
sees events: progress, then one end (`JobFinished`, `JobFailed` or `JobCancelled`). A cancel kills the
child. The job writes into a staging folder; the parent publishes the result from it (`publish`) only
when the child finished, and removes the staging folder whatever happened.

`poll()` suits a UI timer, iterating a blocking caller, and `run()` a thread that has a cancel flag.
"""

from __future__ import annotations

import multiprocessing
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from engine.errors import CabinError, CancelledByUser

POLL_SECONDS = 0.25
"""How often `run()` looks at its cancel flag."""


@dataclass(frozen=True)
class JobProgress:
    step: str
    """A short, stable name for what the job is doing ("load", "quantize", ...)."""
    fraction: float | None
    """Of the whole job, when known."""
    message: str
    """One line for a person."""


@dataclass(frozen=True)
class JobFinished:
    result: Any


@dataclass(frozen=True)
class JobFailed:
    message: str
    """One line: what failed and why."""


@dataclass(frozen=True)
class JobCancelled:
    message: str


JobEnd = JobFinished | JobFailed | JobCancelled
JobEvent = JobProgress | JobEnd
Report = Callable[[JobProgress], None]
"""What the child's target calls with its progress."""


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def reason(error: Exception) -> str:
    """A child's failure as one line: a CabinError's own words; for anything else, its type too."""
    if isinstance(error, CabinError):
        return first_line(error)
    return f"{type(error).__name__}: {first_line(error)}" if str(error).strip() else type(error).__name__


def _child_main(target: Callable[..., Any], args: tuple, conn: Connection) -> None:
    """The child process: `target(*args, report)`, then its result or its failure. Never raises."""
    try:
        conn.send(JobFinished(target(*args, conn.send)))
    except Exception as e:  # noqa: BLE001 — reaches the parent as one line
        conn.send(JobFailed(reason(e)))
    finally:
        conn.close()


class ChildJob:
    """One job in a spawned child process; see the module docstring.

    `name` says what the job is ("export"); `failure` prefixes a failure's reason ("could not convert X");
    `cancelled` is the cancel's message; `publish()` runs in this process when the child finished, to move
    what it wrote out of the staging folder (a CabinError it raises fails the job).
    """

    def __init__(
        self,
        target: Callable[..., Any],
        args: tuple,
        *,
        name: str,
        staging: Path | None = None,
        publish: Callable[[], object] | None = None,
        failure: str | None = None,
        cancelled: str = "cancelled",
    ) -> None:
        self.staging, self._publish = staging, publish
        self._failure, self._cancelled = failure, cancelled
        self.result: JobEnd | None = None
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._name = name
        self._process = context.Process(target=_child_main, args=(target, args, child_conn), name=f"cabin-{name}",
                                        daemon=True)
        try:
            self._process.start()
        except Exception as e:  # noqa: BLE001 — e.g. no way to spawn; the staging folder must not stay behind
            self._discard()
            raise CabinError(f"could not start the {name} process: {e}") from e
        finally:
            child_conn.close()

    @property
    def done(self) -> bool:
        return self.result is not None

    def poll(self) -> list[JobEvent]:
        """Every event that has arrived, without waiting; the last one is the end once the job ended."""
        events: list[JobEvent] = []
        while not self.done and self._conn.poll():
            events.append(self._receive())
        if not self.done and not self._process.is_alive() and not self._conn.poll():
            events.append(self._end(self._died()))
        return events

    def __iter__(self) -> Iterator[JobEvent]:
        while not self.done:
            yield self._receive()

    def wait(self, timeout: float | None = None) -> JobEnd:
        """Block until the job ends (its progress is dropped); TimeoutError after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise TimeoutError("the job is still running")
            if self._conn.poll(remaining):
                self._receive()
        return self.result

    def cancel(self) -> None:
        """Stop the job now: the child is killed and nothing it wrote is left behind."""
        if self.done:
            return
        self._process.kill()
        self._end(JobCancelled(self._cancelled))

    def run(
        self,
        on_progress: Report | None = None,
        cancel: threading.Event | None = None,
        error: type[CabinError] = CabinError,
    ) -> Any:
        """Block until the end, handing progress to `on_progress` and checking `cancel` every POLL_SECONDS.
        Returns the result; raises CancelledByUser, or `error` with the failure's line."""
        try:
            while not self.done:
                if cancel is not None and cancel.is_set():
                    self.cancel()
                elif self._conn.poll(POLL_SECONDS):
                    event = self._receive()
                    if isinstance(event, JobProgress) and on_progress is not None:
                        on_progress(event)
        finally:  # Ctrl-C or a failure here: never leave the child running
            self.cancel()
        if isinstance(self.result, JobCancelled):
            raise CancelledByUser(self.result.message)
        if isinstance(self.result, JobFailed):
            raise error(self.result.message)
        return self.result.result

    def _receive(self) -> JobEvent:
        try:
            event = self._conn.recv()
        except EOFError:
            return self._end(self._died())
        if isinstance(event, JobFinished):
            return self._end(self._published(event))
        if isinstance(event, JobFailed):
            return self._end(self._failed(event.message))
        return event

    def _published(self, finished: JobFinished) -> JobFinished | JobFailed:
        if self._publish is None:
            return finished
        self._process.join()
        try:
            self._publish()
        except CabinError as e:
            return self._failed(first_line(e))
        return finished

    def _failed(self, why: str) -> JobFailed:
        return JobFailed(f"{self._failure}: {why}" if self._failure else why)

    def _died(self) -> JobFailed:
        self._process.join()
        code = self._process.exitcode
        why = "it ran out of memory or was killed" if code and code < 0 else f"exit status {code}"
        return self._failed(f"the {self._name} process stopped unexpectedly ({why})")

    def _end(self, end: JobEnd) -> JobEnd:
        self.result = end
        self._process.join()
        self._conn.close()
        self._discard()
        return end

    def _discard(self) -> None:
        if self.staging is not None:
            shutil.rmtree(self.staging, ignore_errors=True)
