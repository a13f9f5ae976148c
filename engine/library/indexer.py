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
from dataclasses import dataclass, replace
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


def kept_folders(names: list[str]) -> list[str]:
    """The subfolders a walk goes into, sorted: not hidden, not tooling (SKIP_DIRS)."""
    return sorted(d for d in names if not d.startswith(".") and d not in SKIP_DIRS)


def folders(source: Path, cap: int) -> list[Path]:
    """`source` and the folders under it that indexing walks, at most `cap` (none for a file)."""
    found: list[Path] = []
    for root, dirs, _files in os.walk(source):
        dirs[:] = kept_folders(dirs)
        found.append(Path(root))
        if len(found) >= cap:
            break
    return found


def collect(source: Path, cap: int = MAX_FILES) -> tuple[list[Path], str | None]:
    """The documents under `source` (itself, for a file), by path, at most `cap`; and a note on what was left out."""
    if source.is_file():
        return [source], None
    if not source.is_dir():
        return [], f"{source} is not there any more."
    found, others = [], 0
    for root, dirs, files in os.walk(source):
        dirs[:] = kept_folders(dirs)
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


@dataclass(frozen=True)
class Read:
    """A new or changed file, read and chunked, waiting for its vectors."""

    record: FileRecord
    chunks: list[Chunk]
    stamp: tuple[int, float, str]


class IndexRun:
    """One pass over a library, on the calling thread, with its own connection to the index.

    Small files are embedded together: files read are held until they have a batch of chunks between them, so
    a folder of one-chunk notes costs one worker request per BATCH chunks, not one per file."""

    def __init__(self, store_path: Path, name: str, embed: Embed, on_progress: Callable[[Progress], None],
                 stop: threading.Event | None = None, cap: int = MAX_FILES) -> None:  # fmt: skip
        self.store_path, self.name, self.embed = store_path, name, embed
        self.on_progress, self.stop, self.cap = on_progress, stop or threading.Event(), cap
        self.progress = Progress(name, 0, 0, 0)

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
        self._report(replace(self.progress, total=len(records)))
        waiting: list[Read] = []
        try:
            for record in records:
                read = self._read(store, library, record)
                if read is not None:
                    waiting.append(read)
                if sum(len(r.chunks) for r in waiting) >= BATCH:
                    library, waiting = self._write(store, library, waiting), []
            self._write(store, library, waiting)
        except Stopped:
            return self.progress
        self._report(replace(self.progress, path=None, note=None, finished=True))
        return self.progress

    def _report(self, progress: Progress) -> None:
        self.progress = progress
        self.on_progress(progress)

    def _handled(self, path: str, chunks: int, note: str | None) -> None:
        p = self.progress
        self._report(Progress(self.name, p.done + 1, p.total, p.chunks + chunks, path, note))

    def _read(self, store: LibraryStore, library: Library, record: FileRecord) -> Read | None:
        """The file read and chunked when it is new or changed; None when it was handled here (unchanged, or
        noted as unreadable)."""
        if self.stop.is_set():
            raise Stopped
        read, note = self._look_at(store, library, record)
        if read is None:
            self._handled(record.path, 0, note)
        return read

    def _look_at(self, store: LibraryStore, library: Library, record: FileRecord) -> tuple[Read | None, str | None]:
        path = Path(record.path)
        try:
            status = path.stat()
        except OSError as e:
            note = f"{path.name}: could not be read ({e.strerror or e})."
            store.skip(library, record.id, note, (-1, -1, None))
            return None, note
        if record.state in (INDEXED, SKIPPED) and (record.size, record.mtime) == (status.st_size, status.st_mtime):
            return None, record.note
        digest = sha256(path)
        if record.state in (INDEXED, SKIPPED) and digest == record.sha256:
            store.touch(record.id, status.st_size, status.st_mtime)
            return None, record.note
        stamp = (status.st_size, status.st_mtime, digest)
        try:
            return Read(record, chunk_pages(read_pages(path)), stamp), None
        except ReadError as e:
            store.skip(library, record.id, str(e), stamp)
            return None, str(e)

    def _write(self, store: LibraryStore, library: Library, waiting: list[Read]) -> Library:
        """Embed the waiting files' chunks together, then write each file in its own transaction."""
        vectors = self._vectors(library.encoder, [chunk for read in waiting for chunk in read.chunks])
        start = 0
        for read in waiting:
            own = vectors[start : start + len(read.chunks)]
            start += len(read.chunks)
            library = store.write_chunks(library, read.record.id, read.chunks, own, read.stamp)
            self._handled(read.record.path, len(read.chunks), None)
        return library

    def _vectors(self, encoder: str, chunks: list[Chunk]) -> list[list[float]]:
        """Batch by batch, so that Stop (or quitting) waits for one batch, not for a whole long document; the
        files whose vectors were not all made stay as they were, to be indexed next time."""
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
