"""The chat's documents: which libraries each conversation answers from, indexing them in the background
(engine/library/indexer.py) with progress as Qt signals, and the retrieval and citations of each answer.

A folder or files added to a conversation become a library named after the first of them, linked to that
conversation; any library can be used by several conversations. A new chat not yet sent keeps its libraries
as drafts until its first message makes the conversation.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import QObject, Signal

from engine.errors import CabinError
from engine.generation import Engine
from engine.library.embedder import WorkerEmbedder
from engine.library.encoders import choose_encoder, index_path
from engine.library.indexer import Indexer, Progress
from engine.library.retrieval import Retrieval
from engine.library.store import Citation, Library, LibraryStore


def free_name(store: LibraryStore, wanted: str) -> str:
    """`wanted`, or `wanted 2`, `wanted 3`… if a library has it."""
    name, n = wanted, 1
    while store.find(name) is not None:
        n += 1
        name = f"{wanted} {n}"
    return name


class ChatDocuments(QObject):
    sig_progress = Signal(object)
    """A Progress of the indexing, on the UI thread."""
    sig_changed = Signal()
    """Libraries were made, linked or unlinked."""
    sig_notice = Signal(str)
    """One line for the user (no embedding model, a library that could not be indexed)."""

    def __init__(self, engine: Engine, data_dir: Path) -> None:
        super().__init__()
        self.index = index_path(data_dir)
        self.store = LibraryStore(self.index)
        self.embedder = WorkerEmbedder(engine)
        self.indexer = Indexer(self.index, self.embedder.embed)
        self.drafts: list[str] = []
        self.progress: dict[str, Progress] = {}
        self._queued: set[str] = set()
        """Libraries with an indexing run asked for and not yet ended (a second ask would only stat every file again)."""
        self.sig_progress.connect(self._remember)

    # -- reading -----------------------------------------------------------------------------
    def linked(self, conversation_id: str | None) -> list[Library]:
        if conversation_id is None:
            return [self.store.named(name) for name in self.drafts if self.store.find(name)]
        return self.store.linked(conversation_id)

    def libraries(self) -> list[Library]:
        return self.store.libraries()

    def citations(self, message_id: str) -> list[Citation]:
        return self.store.citations(message_id)

    # -- changing ----------------------------------------------------------------------------
    def add_paths(self, conversation_id: str | None, paths: Sequence[Path]) -> Library | None:
        """A new library of `paths`, used by the conversation and indexed in the background (None: refused,
        with a notice)."""
        if not paths:
            return None
        try:
            encoder = choose_encoder()
        except CabinError as e:
            self.sig_notice.emit(str(e))
            return None
        first = paths[0]
        library = self.store.create(free_name(self.store, first.name if first.is_dir() else first.stem), encoder)
        for path in paths:
            self.store.add_source(library, path)
        self.use(conversation_id, library.name)
        self.update(library.name)
        return library

    def use(self, conversation_id: str | None, name: str) -> None:
        if conversation_id is None:
            self.drafts = [*dict.fromkeys([*self.drafts, name])]
        else:
            self.store.link(conversation_id, self.store.named(name))
        self.sig_changed.emit()

    def stop_using(self, conversation_id: str | None, name: str) -> None:
        if conversation_id is None:
            self.drafts = [n for n in self.drafts if n != name]
        else:
            self.store.unlink(conversation_id, self.store.named(name))
        self.sig_changed.emit()

    def remove(self, name: str) -> None:
        """Delete the library's index and its links to conversations (the files stay where they are; earlier answers
        keep their sources). Refused with a notice while it is being indexed."""
        library = self.store.find(name)
        if library is None:
            return
        if name in self._queued:
            self.sig_notice.emit(f"{name} is being indexed: remove it once the indexing ends.")
            return
        self.store.remove(library)
        self.drafts = [n for n in self.drafts if n != name]
        self.progress.pop(name, None)
        self.sig_changed.emit()

    def adopt_drafts(self, conversation_id: str) -> None:
        """The new chat became `conversation_id`: it keeps the libraries chosen for it."""
        for name in self.drafts:
            if self.store.find(name):
                self.store.link(conversation_id, self.store.named(name))
        self.drafts = []

    def update(self, name: str) -> None:
        """Index what is new or changed in the library, in the background."""
        self._queued.add(name)
        future = self.indexer.start(name, self.sig_progress.emit)  # emitted on the indexing thread, delivered queued
        future.add_done_callback(lambda done: self._indexed(name, done))

    def follow_changes(self, conversation_id: str) -> None:
        """Re-index, in the background, what changed in the conversation's libraries since they were indexed: each
        question asks too (beside the watcher), so no edit is missed (unchanged files cost one stat each)."""
        self.refresh([library.name for library in self.store.linked(conversation_id)])

    def refresh(self, names: Sequence[str]) -> list[str]:
        """Re-index what changed in these libraries; the names left because a run for them is already asked for
        (it may have passed a file that changed since)."""
        busy = [name for name in names if name in self._queued]
        for name in names:
            if name not in busy and self.store.find(name):
                self.update(name)
        return busy

    def _indexed(self, name: str, done: Future[Progress]) -> None:
        """On the indexing thread: a run that failed (e.g. its encoder was deleted) says so in one line."""
        self._queued.discard(name)
        if not done.cancelled() and done.exception() is not None:
            self.sig_notice.emit(f"{name} could not be indexed: {done.exception()}")

    def catch_up(self) -> None:
        """At start: finish indexing a quit or a crash interrupted, and follow what changed while Cabin was closed
        (unchanged files cost one stat each)."""
        for library in self.store.libraries():
            self.update(library.name)

    # -- answering ---------------------------------------------------------------------------
    def retrieval_for(self, conversation_id: str) -> Retrieval | None:
        """The `augment` of the conversation's next answer (None: it uses no library)."""
        names = [library.name for library in self.store.linked(conversation_id)]
        if not names:
            return None
        self.follow_changes(conversation_id)
        return Retrieval(self.index, names, self.embedder)

    def save_citations(self, message_id: str, retrieval: Retrieval | None) -> list[Citation]:
        """Keep the citations of the answer `retrieval` was made for (none if it failed or never ran)."""
        if retrieval is None or not retrieval.cited.done() or retrieval.cited.exception() is not None:
            return []
        citations = retrieval.cited.result()
        self.store.save_citations(message_id, citations)
        return citations

    def shutdown(self) -> None:
        """Stop indexing after the file in hand and free the encoder (before the engine shuts down)."""
        self.indexer.shutdown()
        self.embedder.release()
        self.store.close()

    def _remember(self, progress: Progress) -> None:
        self.progress[progress.library] = progress

