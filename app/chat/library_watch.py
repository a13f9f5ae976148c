"""Libraries follow their files while Cabin runs: a change in a folder or file a library holds re-indexes that
library a moment later, in the background (engine/library/indexer.py looks again only at what changed).

Qt's file watcher (inotify, FSEvents) reports a folder when a file in it is added, removed or renamed (as many
editors save), and a watched file when it is written in place. Each library's folders (as indexing walks them) and
its indexed files are watched, up to WATCHED_PATHS per library (inotify's watches are a per-user budget; beyond it,
each question still looks for changes, engine/library/indexer.py). Changes settle for SETTLE_MS before indexing
starts, so a copy of many files is one run. The watch list is rebuilt after each run (what was made since is
watched too).
"""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QFileSystemWatcher, QObject, QTimer

from app.chat.documents import ChatDocuments
from engine.library.indexer import Progress, folders

SETTLE_MS = 1500
WATCHED_PATHS = 4000
"""Folders and files watched per library."""


def source_folders(source: Path) -> list[Path]:
    """A folder and the folders under it; a single file's folder (saving often replaces the file)."""
    if source.is_dir():
        return folders(source, WATCHED_PATHS)
    return [source.parent] if source.exists() else []


def stamp(path: str) -> tuple[int, float] | None:
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_size, status.st_mtime


class LibraryWatcher(QObject):
    """Re-indexes a library when something in its folders or files changes."""

    def __init__(self, documents: ChatDocuments) -> None:
        super().__init__(documents)
        self._documents = documents
        self._watcher = QFileSystemWatcher(self)
        self._watcher.directoryChanged.connect(self._changed)
        self._watcher.fileChanged.connect(self._changed)
        self._settle = QTimer(self, singleShot=True, interval=SETTLE_MS)
        self._settle.timeout.connect(self._reindex)
        self._owners: dict[str, set[str]] = {}
        """Each watched path -> the libraries holding it."""
        self._changed_libraries: set[str] = set()
        documents.sig_changed.connect(self.watch)
        documents.sig_progress.connect(self._rewatch_when_finished)

    def watch(self) -> None:
        """Watch every library's folders and files (and stop watching what no library holds any more). A file that
        changed between its indexing and its watch counts as changed now."""
        owners: dict[str, set[str]] = {}
        stamps: dict[str, tuple[int, float]] = {}
        store = self._documents.store
        for library in store.libraries():
            records = store.files(library)
            stamps |= {record.path: (record.size, record.mtime) for record in records}
            paths = [str(folder) for source in store.sources(library) for folder in source_folders(Path(source.path))]
            for path in (paths + [record.path for record in records])[:WATCHED_PATHS]:
                owners.setdefault(path, set()).add(library.name)
        watched = set(self._watcher.files()) | set(self._watcher.directories())
        if gone := watched - owners.keys():
            self._watcher.removePaths(sorted(gone))
        if new := owners.keys() - watched:
            self._watcher.addPaths(sorted(new))
            for path in new & stamps.keys():
                if stamp(path) != stamps[path]:
                    self._changed(path)
        self._owners = owners

    def stop(self) -> None:
        """Before the documents shut down: no more watching, nor indexing asked for."""
        self._documents.sig_changed.disconnect(self.watch)
        self._documents.sig_progress.disconnect(self._rewatch_when_finished)
        self._settle.stop()
        self._watcher.blockSignals(True)

    def _changed(self, path: str) -> None:
        self._changed_libraries |= self._owners.get(path, set())
        self._settle.start()

    def _reindex(self) -> None:
        """Index the changed libraries; one being indexed now is tried again once the changes settle anew."""
        self._changed_libraries = set(self._documents.refresh(sorted(self._changed_libraries)))
        if self._changed_libraries:
            self._settle.start()

    def _rewatch_when_finished(self, progress: Progress) -> None:
        if progress.finished:
            self.watch()
