"""Light and dark: follow the system's colour scheme, and derive the chat's colours from the palette.

On macOS Qt's native style already switches palettes with the system appearance. Elsewhere the Fusion
style keeps a light palette even when the desktop asks for dark, so a dark one is set here.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

from app.chat.markdown import Colors


def is_dark(palette: QPalette) -> bool:
    return palette.color(QPalette.ColorRole.Window).lightness() < 128


def dark_palette() -> QPalette:
    palette = QPalette()
    roles = {
        QPalette.ColorRole.Window: "#1e1e1e",
        QPalette.ColorRole.WindowText: "#e6e6e6",
        QPalette.ColorRole.Base: "#161616",
        QPalette.ColorRole.AlternateBase: "#262626",
        QPalette.ColorRole.Text: "#e6e6e6",
        QPalette.ColorRole.Button: "#2b2b2b",
        QPalette.ColorRole.ButtonText: "#e6e6e6",
        QPalette.ColorRole.Highlight: "#2f6fd6",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2b2b2b",
        QPalette.ColorRole.ToolTipText: "#e6e6e6",
        QPalette.ColorRole.PlaceholderText: "#8a8a8a",
        QPalette.ColorRole.Link: "#6aa7ff",
        QPalette.ColorRole.Mid: "#3a3a3a",
    }
    for role, color in roles.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#6a6a6a"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#6a6a6a"))
    return palette


def palette_for(scheme: Qt.ColorScheme, app: QApplication) -> QPalette:
    return dark_palette() if scheme == Qt.ColorScheme.Dark else app.style().standardPalette()


def apply_system_scheme(app: QApplication) -> None:
    """Match the palette to the system's light/dark setting now and whenever it changes."""
    if sys.platform == "darwin":
        return
    app.setStyle("Fusion")

    def update() -> None:
        app.setPalette(palette_for(QGuiApplication.styleHints().colorScheme(), app))

    update()
    QGuiApplication.styleHints().colorSchemeChanged.connect(update)


def _blend(a: QColor, b: QColor, amount: float) -> str:
    mix = [round(x * (1 - amount) + y * amount) for x, y in zip(a.getRgb()[:3], b.getRgb()[:3])]
    return QColor(*mix).name()


def chat_colors(palette: QPalette) -> Colors:
    """The Markdown colours for a palette: code blocks a shade off the background, borders a little more."""
    base = palette.color(QPalette.ColorRole.Base)
    text = palette.color(QPalette.ColorRole.Text)
    return Colors(
        text=text.name(),
        muted=_blend(text, base, 0.45),
        code_background=_blend(base, text, 0.04),
        code_header=_blend(base, text, 0.09),
        border=_blend(base, text, 0.18),
        link=palette.color(QPalette.ColorRole.Link).name(),
        dark=is_dark(palette),
    )
