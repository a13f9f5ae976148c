"""Run one long model job (a conversion, a GGUF import) in a child process, relaying what it reports.

The job needs MLX, which in this process belongs to the engine's worker thread; it can use as much memory
as the model; and a cancel must stop it at once. So it runs in a spawned child that sends (kind, payload)
messages back over a queue; the parent hands them on every POLL_SECONDS, terminates the child when
cancelled, and turns the child's failure into one line. Cleaning up what the child wrote is the caller's
job (it writes into a hidden folder the caller removes).
"""

from __future__ import annotations

import multiprocessing
import queue
import sys
import threading
from collections.abc import Callable
from typing import Any

from engine.errors import Cancelled, ModelError

POLL_SECONDS = 0.25
Send = Callable[[str, Any], None]
Message = tuple[str, Any]


def first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def child_entry(target: Callable[..., Any], args: tuple, messages: multiprocessing.Queue) -> None:
    """The child process: `target(*args, send)`; its return value is sent as "result", a failure as "error"."""
    try:
        result = target(*args, lambda kind, payload: messages.put((kind, payload)))
    except Exception as e:  # noqa: BLE001 — reported to the parent as one line
        messages.put(("error", first_line(e)))
        sys.exit(1)
    messages.put(("result", result))


def run_child(
    target: Callable[..., Any],
    args: tuple,
    on_messages: Callable[[list[Message]], None],
    cancel: threading.Event | None,
    failure: str,
    cancelled: str,
) -> Any:
    """Run `target(*args, send)` in a child; call `on_messages` with what arrived at each poll (maybe nothing).
    Returns the target's result; raises Cancelled(`cancelled`) or ModelError(f"{failure}: reason")."""
    context = multiprocessing.get_context("spawn")
    messages = context.Queue()
    child = context.Process(target=child_entry, args=(target, args, messages), daemon=True)
    child.start()
    try:
        received = watch(child, messages, on_messages, cancel, cancelled)
    finally:  # cancelled, Ctrl-C or a failure here: never leave the child running
        if child.is_alive():
            child.terminate()
        child.join()
        messages.close()
        messages.join_thread()
    results = [payload for kind, payload in received if kind == "result"]
    errors = [payload for kind, payload in received if kind == "error"]
    if errors or child.exitcode != 0 or not results:
        raise ModelError(f"{failure}: {errors[0] if errors else f'the child process exited ({child.exitcode})'}")
    return results[0]


def watch(
    child: multiprocessing.Process,
    messages: multiprocessing.Queue,
    on_messages: Callable[[list[Message]], None],
    cancel: threading.Event | None,
    cancelled: str,
) -> list[Message]:
    """Relay messages until the child ends; return the final ones ("result", "error")."""
    final: list[Message] = []
    while child.is_alive() or not messages.empty():
        child.join(POLL_SECONDS)
        if cancel is not None and cancel.is_set():
            raise Cancelled(cancelled)
        arrived = drain(messages)
        final += [m for m in arrived if m[0] in ("result", "error")]
        on_messages([m for m in arrived if m[0] not in ("result", "error")])
    return final


def drain(messages: multiprocessing.Queue) -> list[Message]:
    found = []
    while True:
        try:
            found.append(messages.get_nowait())
        except queue.Empty:
            return found
