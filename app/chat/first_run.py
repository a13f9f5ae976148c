"""What the empty chat offers when no model is loaded: the models already on this machine (Load), models other
apps keep (Import, through the Models pane's import job) and the catalogue's recommended download for this
machine (Download, in the Models pane) — besides choosing a model folder by hand.

Listing reads the disk on a helper thread and the memory budget asks MLX on the engine's worker, so nothing
is asked before `refresh()` is first called, once the window is on screen.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGridLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from app.context import AppContext
from app.model_state import ModelStatus
from app.models.jobs import Watcher, run_in_thread
from app.models.requests import RunFound
from app.models.view import here
from engine.memory import format_bytes
from engine.models.elsewhere import FoundModel, scan
from engine.models.fit import memory_budget
from engine.models.gguf_model import can_run_gguf
from engine.models.hub import is_offline
from engine.models.recommend import Suggestion, first_download
from engine.models.store import StoredModel, list_models

if TYPE_CHECKING:
    from app.chat.chat_view import EmptyState

MAX_SHOWN = 4
"""Rows per section: the empty chat is a start, the Models pane has the whole list."""
MUTED = "color: palette(placeholder-text)"
OFFERING = (ModelStatus.NONE, ModelStatus.FAILED)
"""When the empty chat offers models: none is loaded or loading."""


@dataclass(frozen=True)
class Offers:
    on_disk: list[StoredModel]
    elsewhere: list[FoundModel]
    download: Suggestion | None


def gather(budget: int, context: int) -> Offers:
    """Read the stores (a helper thread's work: it walks folders and reads GGUF headers)."""
    models = [m for m in list_models() if m.usable]
    found = [f for f in scan() if f.importable]
    have = {m.key for m in models}
    return Offers(models, found, first_download(budget, context, have))


@dataclass(frozen=True)
class Row:
    """One offer: what it is, a detail line, the button's verb, the key it is for, and what the button does."""

    name: str
    detail: str
    verb: str
    key: str
    clicked: Callable[[], None]


def describe(model: StoredModel) -> str:
    info = model.info
    return f"{info.model_type} · {info.precision} · {format_bytes(model.size_bytes)}"



class ModelOffers(QWidget):
    """Sections of rows, each a model and one button; hidden until there is something to offer."""

    sig_load = Signal(str)
    """Load this model (a repo id or a folder path) for the chat."""
    sig_import = Signal(object)
    """Import this FoundModel (the Models pane runs the job), or run it as it is (a `RunFound`)."""
    sig_download = Signal(str)
    """Download this catalogue repo (the Models pane runs the job)."""

    def __init__(self) -> None:
        super().__init__()
        self.buttons: dict[str, QPushButton] = {}
        """By the key, path or repo id each button is for."""
        self._column = QVBoxLayout(self)
        self._column.setContentsMargins(0, 0, 0, 0)
        self._column.setSpacing(14)
        self.hide()

    def show_offers(self, offers: Offers) -> None:
        while self._column.count():
            self._column.takeAt(0).widget().deleteLater()
        self.buttons = {}
        sections = [
            (f"On {here()}", [self._load_row(m) for m in offers.on_disk]),
            ("Found elsewhere", [self._import_row(f) for f in offers.elsewhere]),
            (f"Recommended for {here()}", [self._download_row(offers.download)] if offers.download else []),
        ]
        for title, rows in sections:
            if rows:
                self._section(title, rows)

    def _load_row(self, model: StoredModel) -> Row:
        name = model.key if model.source == "hub" else model.label or model.path.name
        return Row(name, describe(model), "Load", model.key, lambda: self.sig_load.emit(model.key))

    def _import_row(self, found: FoundModel) -> Row:
        """A GGUF runs as it is when llama.cpp is installed (at once, nothing copied); otherwise it is imported."""
        detail = f"{found.source} · {found.quant} · {format_bytes(found.size_bytes)}"
        if found.kind == "gguf" and can_run_gguf():
            return Row(found.name, detail, "Run", str(found.path), lambda: self.sig_import.emit(RunFound(found)))
        verb = "Import" if found.kind == "gguf" else "Add"
        return Row(found.name, detail, verb, str(found.path), lambda: self.sig_import.emit(found))

    def _download_row(self, suggestion: Suggestion) -> Row:
        entry = suggestion.entry
        offline = ("offline",) if is_offline() else ()
        detail = " · ".join((f"~{format_bytes(entry.size_bytes)} download", *entry.capabilities, *offline))
        return Row(entry.repo_id, detail, "Download", entry.repo_id, lambda: self.sig_download.emit(entry.repo_id))

    def _section(self, title: str, rows: list[Row]) -> None:
        section = QWidget()
        grid = QGridLayout(section)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(4)
        heading = QLabel(title)
        heading.setStyleSheet("font-weight: 600")
        grid.addWidget(heading, 0, 0, 1, 3)
        for index, row in enumerate(rows[:MAX_SHOWN], start=1):
            button = QPushButton(row.verb)
            button.clicked.connect(lambda _checked=False, clicked=row.clicked: clicked())
            if row.verb == "Download" and is_offline():
                button.setEnabled(False)
                button.setToolTip("Offline: downloads are off (HF_HUB_OFFLINE)")
            self.buttons[row.key] = button
            label = QLabel(row.name)
            label.setToolTip(row.key)
            note = QLabel(row.detail)
            note.setStyleSheet(MUTED)
            grid.addWidget(label, index, 0)
            grid.addWidget(note, index, 1)
            grid.addWidget(button, index, 2, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)
        self._column.addWidget(section)


class FirstRun:
    """Fills the empty chat's offers from the stores and the catalogue, each time it is seen without a model."""

    def __init__(self, context: AppContext, empty: EmptyState) -> None:
        self._context = context
        self.empty = empty
        self.budget: int | None = None
        self.started = False
        self.watcher = Watcher(lambda: None)
        self.watcher.setParent(empty)
        empty.sig_shown.connect(self._shown)

    def refresh(self) -> None:
        """Look again: the budget once (it imports MLX on the worker), then the stores on a helper thread."""
        self.started = True
        if self.budget is None:
            self.watcher.watch(self._context.engine.submit(memory_budget), self._set_budget)
        else:
            self._gather()

    def _set_budget(self, future: Future) -> None:
        self.budget = future.result() if future.exception() is None else 0
        self._gather()

    def _gather(self) -> None:
        context = self._context.settings.values.context_length
        self.watcher.watch(run_in_thread(lambda: gather(self.budget, context), "cabin-first-run"), self._show)

    def _show(self, future: Future) -> None:
        if future.exception() is None:
            self.empty.show_offers(future.result())

    def _shown(self) -> None:
        """Seen again (back from the Models pane, where a model may have been imported): look again."""
        if self.started and self._context.models.status in OFFERING and not self.watcher.busy:
            self.refresh()
