"""The panes of the main window, in switcher order. To add one, append its factory here.

A factory takes the shared `AppContext` and returns a QWidget; its windowTitle() names it in the
switcher. A pane may define `populate_menus(menus: dict[str, QMenu])` to add its commands to the
"File", "Edit", "Conversation", "View" or "Help" menus, `shutdown()` to finish its work and save
its state when the window closes, and `accepts_files(paths) -> bool` with `open_files(paths)` to take files
dropped on the window (the window then shows that pane).
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from app.chat.pane import ChatPane
from app.context import AppContext
from app.export.pane import ExportPane
from app.models.pane import models_pane

PaneFactory = Callable[[AppContext], QWidget]

PANES: tuple[PaneFactory, ...] = (ChatPane, models_pane, ExportPane)
