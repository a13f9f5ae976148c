"""Run an export in a child process, with progress sent back over a pipe.

The child isolates the export's multi-GB peak and keeps torch, coremltools and MLX out of the
caller (the app's engine thread, or the CLI). Cancelling is a kill; the parent then removes the
staging folder, so a cancelled, failed or crashed export leaves nothing at the destination.
This module imports neither torch nor MLX: the app's export pane talks to it directly.
"""

from __future__ import annotations

import multiprocessing
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

from engine.coreml.events import Event, Failed, Finished
from engine.coreml.options import ExportError, ExportOptions
from engine.coreml.staging import check_destination, discard, make_staging, publish
from engine.errors import CabinError


def silence() -> None:
    """Keep the libraries' chatter (coremltools' progress bars and "Failed to load _MLCPUComputeDeviceProxy"
    lines, torch and transformers warnings) off the user's terminal: progress goes over the pipe instead.
    The child's stdout and stderr go to /dev/null, which also catches what native code prints."""
    import logging
    import os
    import warnings

    os.environ["TQDM_DISABLE"] = "1"
    warnings.filterwarnings("ignore")
    logging.disable(logging.WARNING)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    os.close(devnull)


def _child(options: ExportOptions, staging: Path, conn: Connection) -> None:
    """The child process: run the export, publish it, and say how it went. Never raises."""
    if not options.verbose:
        silence()
    from engine.coreml.export import run_export

    try:
        summary = run_export(options, staging, conn.send)
        publish(staging, options.out, options.overwrite)
        conn.send(Finished(summary))
    except CabinError as e:
        conn.send(Failed(str(e)))
    except Exception as e:  # noqa: BLE001 — an export bug must reach the user as one line, not kill the pipe
        conn.send(Failed(f"export failed: {type(e).__name__}: {str(e).strip().splitlines()[0] if str(e).strip() else ''}"))
    finally:
        conn.close()


class ExportJob:
    """One export in a child process. `poll()` for a UI timer, iterate for a blocking caller, `cancel()` to stop.

    The destination is checked here, before the child starts, so a refusal is immediate.
    """

    def __init__(self, options: ExportOptions) -> None:
        check_destination(options.out, options.overwrite)
        self.options = options
        self.staging = make_staging(options.out)
        context = multiprocessing.get_context("spawn")
        self._conn, child_conn = context.Pipe(duplex=False)
        self._process = context.Process(
            target=_child, args=(options, self.staging, child_conn), name="cabin-coreml-export", daemon=True
        )
        try:
            self._process.start()
        except Exception as e:  # noqa: BLE001 — e.g. no way to spawn; the staging folder must not stay behind
            discard(self.staging)
            raise ExportError(f"could not start the export process: {e}") from e
        finally:
            child_conn.close()
        self.result: Finished | Failed | None = None

    @property
    def done(self) -> bool:
        return self.result is not None

    def poll(self) -> list[Event]:
        """Every event that has arrived, without waiting; the last one is Finished or Failed once it ended."""
        events: list[Event] = []
        while not self.done and self._conn.poll():
            events.append(self._receive())
        if not self.done and not self._process.is_alive() and not self._conn.poll():
            events.append(self._end(self._died()))
        return events

    def __iter__(self) -> Iterator[Event]:
        while not self.done:
            yield self._receive()

    def wait(self, timeout: float | None = None) -> Finished | Failed:
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self.done:
            remaining = None if deadline is None else max(0.0, deadline - time.monotonic())
            if remaining == 0.0:
                raise TimeoutError("the export is still running")
            if self._conn.poll(remaining):
                self._receive()
        return self.result

    def cancel(self) -> None:
        """Stop the export now; nothing it wrote is left behind."""
        if self.done:
            return
        self._process.kill()
        self._process.join()
        self._end(Failed("export cancelled", cancelled=True))

    def _receive(self) -> Event:
        try:
            event = self._conn.recv()
        except EOFError:
            return self._end(self._died())
        if isinstance(event, (Finished, Failed)):
            return self._end(event)
        return event

    def _died(self) -> Failed:
        self._process.join()
        code = self._process.exitcode
        why = "it ran out of memory or was killed" if code and code < 0 else f"exit status {code}"
        return Failed(f"the export process stopped unexpectedly ({why})")

    def _end(self, event: Finished | Failed) -> Finished | Failed:
        self.result = event
        self._process.join()
        self._conn.close()
        if isinstance(event, Failed):
            discard(self.staging)
        return event

