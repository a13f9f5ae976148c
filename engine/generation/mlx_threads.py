"""OS threads for MLX work that never end: when one engine is done with its thread, the next engine reuses it.

Why they must not end: when an OS thread ends, its C++ thread-local destructors run after Python
already counts the thread as finished (`Thread.join()` has returned). MLX's per-thread compile cache
holds Python callables, so its destructor takes the GIL; if the interpreter is finalizing by then,
taking the GIL ends the thread inside that destructor and the process aborts ("terminate called
without an active exception", exit 134). A thread that waits here for its next job never runs those
destructors, and process exit discards it. Reusing it also reuses its MLX streams, instead of
leaving one more stream thread behind per engine.
"""

from __future__ import annotations

import queue
import sys
import threading
from collections.abc import Callable

Job = Callable[[], None]
Inbox = queue.SimpleQueue[tuple[Job, threading.Event]]
_idle: queue.SimpleQueue[Inbox] = queue.SimpleQueue()
"""The inboxes of threads waiting for a job."""


def run_on_mlx_thread(job: Job) -> threading.Event:
    """Run `job` on an idle MLX thread (a new one if none is idle); set the returned event once the thread is idle again.

    `job` must leave no MLX work in flight and no MLX arrays behind when it returns (free the model first).
    """
    try:
        inbox = _idle.get_nowait()
    except queue.Empty:
        inbox = queue.SimpleQueue()
        threading.Thread(target=_serve, args=(inbox,), name="cabin-mlx", daemon=True).start()
    done = threading.Event()
    inbox.put((job, done))
    return done


def _serve(inbox: Inbox) -> None:
    while True:
        job, done = inbox.get()
        try:
            job()
        except BaseException:  # noqa: BLE001 — reported as an uncaught thread error is, but the thread must live on
            threading.excepthook(threading.ExceptHookArgs((*sys.exc_info(), threading.current_thread())))
        del job
        _idle.put(inbox)
        done.set()
