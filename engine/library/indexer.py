"""Indexing a library: find its documents, and (re)index each new or changed one, reporting progress.

A file is looked at again only when its size or mtime changed, and re-read only when its SHA-256 did too.
Every file's chunks and state are written in one transaction, so an indexing stopped mid-way (Stop, quit,
crash) resumes after a restart with the files it had not reached: those indexed are stat-checked and passed.
What cannot be indexed gets a note and the rest goes on: a file with its reason (binary, encrypted or
damaged PDF, no text), a folder over the file cap or holding files that are not documents.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from engine.library.chunker import Chunk, chunk_pages
from engine.library.embedder import BATCH
from engine.library.readers import ReadError, is_readable, read_pages
from engine.library.store import INDEXED, SKIPPED, FileRecord, Library, LibraryStore

MAX_FILES = 5000
"""Documents taken from one added folder; the note on the folder says how many more were left out."""
SKIP_DIRS = frozenset({"node_modules", "__pycache__", "venv", "site-packages", "build", "dist"})
"""Besides hidden folders (.git, .venv, …): folders of tooling, never a person's documents."""

Embed = Callable[[str, list[str]], list[list[float]]]
"""(encoder folder, texts) -> one vector per text."""


class Stopped(Exception):
    """The run was asked to stop in the middle of a file (left as it was, to be indexed next time)."""


@dataclass(frozen=True)
class Progress:
    library: str
    done: int
    total: int
    chunks: int
    """Chunks written so far in this run."""
    path: str | None = None
    """The file just handled."""
    note: str | None = None
    """Why that file was not indexed."""
    finished: bool = False


def collect(source: Path, cap: int = MAX_FILES) -> tuple[list[Path], str | None]:
    """The documents under `source` (itself, for a file), by path, at most `cap`; and a note on what was left out."""
    if source.is_file():
        return [source], None
    if not source.is_dir():
        return [], f"{source} is not there any more."
    found, others = [], 0
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in SKIP_DIRS)
        for name in sorted(files):
            path = Path(root) / name
            if name.startswith("."):
                continue
            if is_readable(path):
                found.append(path)
            else:
                others += 1
    notes = []
    if len(found) > cap:
        notes.append(f"{source.name} holds {len(found):,} documents: the first {cap:,} by path are indexed "
                     f"(add its subfolders one by one for the rest)")  # fmt: skip
    if others:
        files = "1 file that is not a document was" if others == 1 else f"{others:,} files that are not documents were"
        notes.append(f"{files} passed over (Cabin indexes text, Markdown, code, PDF and DOCX)")
    return found[:cap], ("; ".join(notes) + ".") if notes else None


def sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class IndexRun:
    """One pass over a library, on the calling thread, with its own connection to the index."""

    def __init__(self, store_path: Path, name: str, embed: Embed, on_progress: Callable[[Progress], None],
                 stop: threading.Event | None = None, cap: int = MAX_FILES) -> None:  # fmt: skip
        self.store_path, self.name, self.embed = store_path, name, embed
        self.on_progress, self.stop, self.cap = on_progress, stop or threading.Event(), cap

    def run(self) -> Progress:
        store = LibraryStore(self.store_path)
        try:
            return self._run(store)
        finally:
            store.close()

    def _run(self, store: LibraryStore) -> Progress:
        library = store.named(self.name)
        paths: list[Path] = []
        for source in store.sources(library):
            found, note = collect(Path(source.path), self.cap)
            store.set_source_note(library, source.path, note)
            paths += found
        store.sync_files(library, sorted(set(paths)))
        records = store.files(library)
        progress = Progress(self.name, 0, len(records), 0)
        self.on_progress(progress)
        for done, record in enumerate(records, start=1):
            try:
                library, written, note = self._index(store, library, record)
            except Stopped:
                return progress
            progress = Progress(self.name, done, len(records), progress.chunks + written, record.path, note)
            self.on_progress(progress)
        progress = Progress(self.name, len(records), len(records), progress.chunks, finished=True)
        self.on_progress(progress)
        return progress

    def _index(self, store: LibraryStore, library: Library, record: FileRecord) -> tuple[Library, int, str | None]:
        """(the library as now, chunks written, the file's note)."""
        if self.stop.is_set():
            raise Stopped
        path = Path(record.path)
        try:
            status = path.stat()
        except OSError as e:
            note = f"{path.name}: could not be read ({e.strerror or e})."
            store.skip(library, record.id, note, (-1, -1, None))
            return library, 0, note
        if record.state in (INDEXED, SKIPPED) and (record.size, record.mtime) == (status.st_size, status.st_mtime):
            return library, 0, record.note
        digest = sha256(path)
        if record.state in (INDEXED, SKIPPED) and digest == record.sha256:
            store.touch(record.id, status.st_size, status.st_mtime)
            return library, 0, record.note
        stamp = (status.st_size, status.st_mtime, digest)
        try:
            chunks = chunk_pages(read_pages(path))
        except ReadError as e:
            store.skip(library, record.id, str(e), stamp)
            return library, 0, str(e)
        vectors = self._vectors(library.encoder, chunks)
        return store.write_chunks(library, record.id, chunks, vectors, stamp), len(chunks), None

    def _vectors(self, encoder: str, chunks: list[Chunk]) -> list[list[float]]:
        """Batch by batch, so that Stop (or quitting) waits for one batch, not for a whole long document."""
        vectors: list[list[float]] = []
        for start in range(0, len(chunks), BATCH):
            if self.stop.is_set():
                raise Stopped
            vectors += self.embed(encoder, [chunk.text for chunk in chunks[start : start + BATCH]])
        return vectors


class Indexer:
    """Indexing in the background: one library at a time on its own thread, in the order asked."""

    def __init__(self, store_path: Path, embed: Embed) -> None:
        self.store_path, self.embed = store_path, embed
        self._thread = ThreadPoolExecutor(1, "cabin-indexer")
        self._stop = threading.Event()

    def start(self, name: str, on_progress: Callable[[Progress], None]) -> Future[Progress]:
        """Index library `name` after any indexing already asked for; `on_progress` is called on the indexing thread."""
        return self._thread.submit(IndexRun(self.store_path, name, self.embed, on_progress, self._stop).run)

    def shutdown(self) -> None:
        """Stop after the file being indexed (it is written whole) and drop what was queued."""
        self._stop.set()
        self._thread.shutdown(wait=True, cancel_futures=True)
