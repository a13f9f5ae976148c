"""A line above the conversation naming the libraries its answers use, with indexing progress, and a
Documents menu: add a folder or files, use or stop using any library, index changes now, remove a library."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QHBoxLayout, QLabel, QMenu, QToolButton, QWidget

from app.chat.documents import ChatDocuments
from app.dialogs import ask_to_confirm
from engine.library.indexer import Progress
from engine.library.store import Library

REFRESH_INTERVAL = 0.25
"""Least seconds between two redraws of the line while indexing (a progress comes per file)."""


def library_line(documents: ChatDocuments, library: Library) -> str:
    """"handbook (12 files)", or while indexing "handbook (indexing 3 / 40)"."""
    progress = documents.progress.get(library.name)
    if progress is not None and not progress.finished:
        return f"{library.name} (indexing {progress.done:,} / {progress.total:,})"
    summary = documents.store.summary(library)
    skipped = f", {summary.skipped:,} not readable" if summary.skipped else ""
    return f"{library.name} ({summary.indexed:,} files{skipped})"


def notes_text(documents: ChatDocuments, library: Library) -> list[str]:
    """The library's folder and file notes, for the tooltip."""
    sources = [f"{s.path}: {s.note}" for s in documents.store.sources(library) if s.note]
    return sources + [record.note for record in documents.store.files(library) if record.note]


class DocumentsBar(QWidget):
    def __init__(self, documents: ChatDocuments, conversation: Callable[[], str | None]) -> None:
        super().__init__()
        self.documents = documents
        self._conversation = conversation
        self.button = QToolButton()
        self.button.setText("Documents")
        self.button.setAutoRaise(True)
        self.button.setToolTip("Answer from your own files: add a folder or files, or use a library")
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.menu = QMenu(self)
        self.menu.aboutToShow.connect(self._fill_menu)
        self.button.setMenu(self.menu)
        self._refreshed = 0.0
        self.summary = QLabel()
        self.summary.setStyleSheet("color: palette(placeholder-text)")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 0, 16, 0)
        layout.addWidget(self.button)
        layout.addWidget(self.summary, 1)
        documents.sig_changed.connect(self.refresh)
        documents.sig_progress.connect(self._progressed)
        documents.sig_notice.connect(self.summary.setText)

    def refresh(self) -> None:
        self._refreshed = time.monotonic()
        libraries = self.documents.linked(self._conversation())
        lines = [library_line(self.documents, library) for library in libraries]
        self.summary.setText(("Answers use: " + " · ".join(lines)) if lines else "")
        notes = [note for library in libraries for note in notes_text(self.documents, library)]
        self.summary.setToolTip("\n".join(notes[:40]) + (f"\n… and {len(notes) - 40:,} more" if len(notes) > 40 else ""))

    def _progressed(self, progress: Progress) -> None:
        due = progress.finished or time.monotonic() - self._refreshed >= REFRESH_INTERVAL
        if due and any(library.name == progress.library for library in self.documents.linked(self._conversation())):
            self.refresh()

    def _fill_menu(self) -> None:
        self.menu.clear()
        self.menu.addAction("Add Folder…", self.add_folder)
        self.menu.addAction("Add Files…", self.add_files)
        linked = {library.name for library in self.documents.linked(self._conversation())}
        libraries = self.documents.libraries()
        if libraries:
            self.menu.addSection("Answer from")
        for library in libraries:
            action = self.menu.addAction(library.name)
            action.setCheckable(True)
            action.setChecked(library.name in linked)
            action.toggled.connect(lambda on, name=library.name: self.toggle(name, on))
        if linked:
            self.menu.addSeparator()
            self.menu.addAction("Index Changes Now", self.update_linked)
        if libraries:
            remove = self.menu.addMenu("Remove Library")
            for library in libraries:
                remove.addAction(f"{library.name}…", lambda name=library.name: self.remove_library(name))

    def toggle(self, name: str, on: bool) -> None:
        (self.documents.use if on else self.documents.stop_using)(self._conversation(), name)

    def add_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Add a Folder of Documents")
        if folder:
            self.documents.add_paths(self._conversation(), [Path(folder)])

    def add_files(self) -> None:
        files, _filter = QFileDialog.getOpenFileNames(self, "Add Documents")
        if files:
            self.documents.add_paths(self._conversation(), [Path(f) for f in files])

    def remove_library(self, name: str) -> None:
        question = f"Remove the library {name}?"
        detail = ("Its index is deleted and no conversation answers from it any more. Your files stay where they "
                  "are, and earlier answers keep their sources.")
        if self.confirm(question, detail):
            self.documents.remove(name)

    def confirm(self, question: str, detail: str) -> bool:
        return ask_to_confirm(self, question, detail, "Remove")

    def update_linked(self) -> None:
        for library in self.documents.linked(self._conversation()):
            self.documents.update(library.name)
