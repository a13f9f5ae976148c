"""The main window: a pane switcher (from `app.panes.PANES`), macOS-style menus and a status bar."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QByteArray, QMimeData, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence
from PySide6.QtWidgets import QLabel, QMainWindow, QMessageBox, QStackedWidget, QToolBar, QWidget

from app.api_server import ApiServerControl
from app.context import AppContext
from app.model_state import ModelStatus
from app.panes import PANES, PaneFactory
from app.preferences.window import PreferencesWindow
from engine import __version__
from engine.memory import MemoryReading, format_bytes

MENUS = ("File", "Edit", "Conversation", "View", "Help")
MEMORY_REFRESH_MS = 2000
NOTICE_MS = 60_000


class MainWindow(QMainWindow):
    sig_memory = Signal(object)
    """A MemoryReading taken on the helper thread; queued to this window's thread."""

    def __init__(self, context: AppContext, panes: tuple[PaneFactory, ...] = PANES) -> None:
        super().__init__()
        self.context = context
        self._closed = False
        self.setWindowTitle("Cabin")
        self.setUnifiedTitleAndToolBarOnMac(True)
        self.stack = QStackedWidget()
        self.setCentralWidget(self.stack)
        self.menus = {title: self.menuBar().addMenu(f"&{title}") for title in MENUS}
        self.panes = [factory(context) for factory in panes]
        self._connect_panes()
        self._build_switcher()
        self._build_app_actions()
        for pane in self.panes:
            if hasattr(pane, "populate_menus"):
                pane.populate_menus(self.menus)
        self.api_server = ApiServerControl(context)
        self.menus["File"].addSeparator()
        self.menus["File"].addAction(self.api_server.action)
        self.menus["File"].addSeparator()
        self.menus["File"].addAction(self._quit_action)
        self._build_status_bar()
        self._restore_geometry()
        self.preferences: PreferencesWindow | None = None
        self.setAcceptDrops(True)

    # -- panes -------------------------------------------------------------------------------
    def _build_switcher(self) -> None:
        """A toolbar of pane buttons (hidden while there is only one pane), also under View with ⌘1, ⌘2…"""
        self.switcher = QToolBar("Panes")
        self.switcher.setMovable(False)
        self.switcher.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        group = QActionGroup(self)
        for index, pane in enumerate(self.panes):
            self.stack.addWidget(pane)
            action = QAction(pane.windowTitle(), self, checkable=True, checked=index == 0)
            action.setShortcut(QKeySequence(f"Ctrl+{index + 1}"))
            action.triggered.connect(lambda _checked, p=pane: self.show_pane(p))
            group.addAction(action)
            self.switcher.addAction(action)
            self.menus["View"].addAction(action)
        self.switcher.setVisible(len(self.panes) > 1)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, self.switcher)

    def _connect_panes(self) -> None:
        """Requests between panes (`sig_request`) and the chat's title (`sig_title`); see app/panes.py."""
        for pane in self.panes:
            if hasattr(pane, "sig_request"):
                pane.sig_request.connect(self.route_request)
            if hasattr(pane, "sig_title"):
                pane.sig_title.connect(self.show_title)

    def route_request(self, title: str, request: object) -> None:
        """Bring the pane named `title` forward and hand it `request` (None: only show it)."""
        pane = next((p for p in self.panes if p.windowTitle() == title), None)
        if pane is None:
            return
        self.show_pane(pane)
        if request is not None:
            pane.take_request(request)

    def show_title(self, conversation: str) -> None:
        self.setWindowTitle(f"Cabin — {conversation}" if conversation else "Cabin")

    def start_panes(self) -> None:
        """The window is on screen: let each pane begin what may import MLX (`start`, see app/panes.py)."""
        for pane in self.panes:
            if hasattr(pane, "start"):
                pane.start()

    def show_pane(self, pane: QWidget) -> None:
        self.stack.setCurrentWidget(pane)
        self.switcher.actions()[self.panes.index(pane)].setChecked(True)

    def pane(self, kind: type) -> QWidget:
        return next(p for p in self.panes if isinstance(p, kind))

    # -- files dropped on the window ---------------------------------------------------------
    def pane_for_files(self, mime: QMimeData) -> tuple[QWidget, list[Path]] | None:
        """The first pane that takes these dropped files (`accepts_files`, see app/panes.py), and the files."""
        paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
        takers = (p for p in self.panes if paths and hasattr(p, "accepts_files") and p.accepts_files(paths))
        pane = next(takers, None)
        return (pane, paths) if pane is not None else None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 — Qt override
        if self.pane_for_files(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 — Qt override
        """Show the pane that takes the files, and hand them to it (a .gguf: the Models pane imports it)."""
        taker = self.pane_for_files(event.mimeData())
        if taker is not None:
            pane, paths = taker
            self.show_pane(pane)
            pane.open_files(paths)
            event.acceptProposedAction()

    # -- application menus -------------------------------------------------------------------
    def _build_app_actions(self) -> None:
        """About, Preferences and Quit: Qt moves them into the application menu on macOS by their roles."""
        about = QAction("About Cabin", self, menuRole=QAction.MenuRole.AboutRole)
        about.triggered.connect(self.show_about)
        quit_action = QAction("Quit Cabin", self, menuRole=QAction.MenuRole.QuitRole)
        quit_action.setShortcut(QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        self.preferences_action = QAction("Preferences…", self, menuRole=QAction.MenuRole.PreferencesRole)
        # The platform's Preferences key is ⌘, on macOS; most Linux desktops define none, so Ctrl+, there.
        standard = QKeySequence.keyBindings(QKeySequence.StandardKey.Preferences)
        self.preferences_action.setShortcuts(standard or [QKeySequence("Ctrl+,")])
        self.preferences_action.triggered.connect(lambda: self.show_preferences())
        self.performance_action = QAction("Performance", self)
        self.performance_action.setShortcut(QKeySequence("Ctrl+Alt+P"))
        self.performance_action.triggered.connect(lambda: self.show_preferences("Performance"))
        self.menus["View"].addAction(self.performance_action)
        self.menus["Help"].addAction(about)
        self.menus["Edit"].addAction(self.preferences_action)
        self.menus["Edit"].addSeparator()
        self._quit_action = quit_action

    def show_preferences(self, page: str = "Generation") -> PreferencesWindow:
        """Open the (non-modal) Preferences window at `page`; it is made the first time it is asked for."""
        if self.preferences is None:
            self.preferences = PreferencesWindow(self.context, self)
        self.preferences.show_page(page)
        return self.preferences

    def show_about(self) -> None:
        QMessageBox.about(
            self,
            "About Cabin",
            f"<b>Cabin</b> {__version__}<br>A local-first AI assistant for Apple Silicon Macs, built on MLX.<br>"
            "Your conversations stay on this computer.",
        )

    # -- status bar --------------------------------------------------------------------------
    def _build_status_bar(self) -> None:
        self.model_label = QLabel()
        self.memory_label = QLabel()
        self.statusBar().addWidget(self.model_label, 1)
        self.statusBar().addPermanentWidget(self.api_server.label)
        self.statusBar().addPermanentWidget(self.memory_label)
        self.context.models.sig_changed.connect(self._show_model)
        self.sig_memory.connect(self._show_memory)
        self._show_model()
        self._memory_timer = QTimer(self, interval=MEMORY_REFRESH_MS)
        self._memory_timer.timeout.connect(self._refresh_memory)
        self._memory_timer.start()
        if self.context.notices:
            self.statusBar().showMessage(" ".join(self.context.notices), NOTICE_MS)

    def _show_model(self) -> None:
        models = self.context.models
        if models.status is ModelStatus.READY:
            text = self._model_summary()
        else:
            text = {
                ModelStatus.NONE: "No model loaded — File ▸ Choose Model Folder…",
                ModelStatus.LOADING: f"Loading {models.loading_name}…",
                ModelStatus.FAILED: f"Model failed to load: {models.error}",
            }[models.status]
        self.model_label.setText(text)
        self.model_label.setToolTip(text)
        self.model_label.setStyleSheet("color: #c62828" if models.status is ModelStatus.FAILED else "")
        self._refresh_memory()

    def _model_summary(self) -> str:
        info = self.context.models.info
        return f"{info.name} · {info.precision} · {format_bytes(info.weight_bytes)} of weights"

    def _refresh_memory(self) -> None:
        """Read memory on a helper thread (on macOS it runs sysctl and vm_stat), show it on this one."""
        if self._closed:
            return  # a model finishing loading during shutdown: the helper thread is gone
        future = self.context.background.submit(self.context.engine.memory)
        future.add_done_callback(lambda f: f.exception() is None and self.sig_memory.emit(f.result()))

    def _show_memory(self, reading: MemoryReading) -> None:
        self.memory_label.setText(
            f"Model memory {format_bytes(reading.active)} · "
            f"{format_bytes(reading.system.available)} of {format_bytes(reading.system.total)} free"
        )

    # -- geometry and closing ----------------------------------------------------------------
    def _restore_geometry(self) -> None:
        geometry = self.context.settings.get("window_geometry")
        if not (geometry and self.restoreGeometry(QByteArray.fromHex(geometry.encode()))):
            self.resize(1100, 760)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 — Qt override
        """Quit in order: stop every answer (the chat's is saved), ask the API server to stop, save the window's place.

        The loop must run on until `api_server.stopped()` (see `app.main.run_app`); the engine stops last.
        """
        self._closed = True
        self.context.engine.stop_answers()  # API answers too, so the chat's is not left waiting behind one
        for pane in self.panes:
            if hasattr(pane, "shutdown"):
                pane.shutdown()
        self._memory_timer.stop()
        if self.preferences is not None:
            self.preferences.close()
        self.api_server.shutdown()
        self.context.settings.set("window_geometry", self.saveGeometry().toHex().data().decode())
        super().closeEvent(event)
