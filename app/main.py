"""The desktop app's entry point: a QApplication on qasync's event loop, the window shown first and
the last used model loaded after, so the window appears before MLX is even imported."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

os.environ.setdefault("QT_API", "pyside6")  # qasync prefers PyQt5 when both are installed

from PySide6.QtCore import QTimer  # noqa: E402
from PySide6.QtGui import QIcon  # noqa: E402
from PySide6.QtWidgets import QApplication  # noqa: E402

from app.context import AppContext  # noqa: E402
from app.paths import app_icon_path  # noqa: E402
from app.theme import apply_system_scheme  # noqa: E402
from app.window import MainWindow  # noqa: E402


def create_application(argv: list[str] | None = None) -> QApplication:
    app = QApplication.instance() or QApplication(argv if argv is not None else sys.argv)
    app.setApplicationName("Cabin")
    app.setOrganizationName("Cabin")
    app.setApplicationDisplayName("Cabin")
    app.setWindowIcon(QIcon(str(app_icon_path())))
    apply_system_scheme(app)
    return app


def build_window(context: AppContext) -> MainWindow:
    """The main window for `context`, not yet shown; no event loop is entered (see `--selftest`)."""
    return MainWindow(context)


def start(window: MainWindow) -> None:
    """After the window is on screen: load the last used model on the engine's worker, start the panes (the empty
    chat's model offers), serve the API if it was on."""
    window.context.models.load_last_used()
    window.start_panes()
    window.api_server.restore()


def quit_on_signals(window: MainWindow) -> QTimer:
    """Ctrl-C or SIGTERM in the terminal closes the window properly (saving an answer being written).

    Python runs signal handlers only between bytecodes, so a timer wakes the interpreter now and then.
    """

    def close(_signum: int, _frame: object) -> None:
        QTimer.singleShot(0, window.close)

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, close)
    waker = QTimer(window, interval=250)
    waker.timeout.connect(lambda: None)
    waker.start()
    return waker


def run_app(data_dir: Path | None = None) -> int:
    """Run the window until it closes, then shut down in order.

    Closing the window stops the chat's answer (saving it) and asks the API server to stop; the loop
    then runs until the server's answers have ended and its port is closed; the loop is closed; and
    last the engine stops (no MLX call left in flight when Python exits).
    """
    import qasync

    app = create_application()
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    context = AppContext.create(data_dir)
    window = build_window(context)
    window.show()
    quit_on_signals(window)
    QTimer.singleShot(0, lambda: start(window))
    try:
        with loop:
            loop.run_forever()
            loop.run_until_complete(window.api_server.stopped())
    finally:
        window.deleteLater()
        context.close()
    return 0
