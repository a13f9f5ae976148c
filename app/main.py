"""The desktop app's entry point."""

from __future__ import annotations

import sys


def run_app() -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    app = QApplication.instance() or QApplication(sys.argv)
    window = QLabel("Cabin")
    window.setWindowTitle("Cabin")
    window.resize(800, 600)
    window.show()
    return app.exec()
