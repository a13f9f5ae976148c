"""The panes of the main window, in switcher order. To add one, append its factory here.

A factory takes the shared `AppContext` and returns a QWidget; its windowTitle() names it in the
switcher. A pane may define `populate_menus(menus: dict[str, QMenu])` to add its commands to the
"File", "Edit", "Conversation", "View" or "Help" menus, `shutdown()` to finish its work and save
its state when the window closes, and `accepts_files(paths) -> bool` with `open_files(paths)` to take files
dropped on the window (the window then shows that pane). `start()` begins work once the window is on screen
(what may import MLX waits for it); `sig_request(title, request)` asks the window to show the pane titled so
and to call its `take_request(request)` (None: only show it); `sig_title(str)` names what the window's title shows.
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
