"""A question answered from documents: its best chunks in the conversation's libraries go into the question,
numbered and headed by file and page, and the same chunks become the answer's citations.

The retrieval runs on the engine's worker, as the prompt is prepared (Engine.chat's `augment`): the query's
vector comes from the encoder already there, and nothing waits on the UI thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path

from engine.library.embedder import WorkerEmbedder
from engine.library.search import Hit, search
from engine.library.store import Citation, LibraryStore
from engine.messages import Message, Text

TOP_K = 4
EXCERPT_CHARS = 160
"""Of each chunk, kept with the citation (the tooltip of its link)."""
INSTRUCTION = "Read these excerpts from my documents, then answer the question."


def excerpts_block(hits: Sequence[Hit]) -> str:
    """The chunks as the model reads them: each headed by its file (and page), its text quoted.

    No [n] numbers: with them SmolLM2-135M answered "1" to a question its excerpts answer; headed by file name
    it answered "The answer is: 27" (greedy, llama.cpp). The numbers are the window's, under the answer."""
    parts = []
    for hit in hits:
        page = f", page {hit.page}" if hit.page is not None else ""
        parts.append(f'{Path(hit.path).name}{page}:\n"{hit.text}"')
    return "\n\n".join(parts)


def with_excerpts(messages: list[Message], hits: Sequence[Hit]) -> list[Message]:
    """The messages with the last one (the question) preceded by the excerpts; unchanged without hits."""
    if not hits or not messages:
        return messages
    question = messages[-1]
    text = f"{INSTRUCTION}\n\n{excerpts_block(hits)}\n\nQuestion: {question.text}"
    parts = tuple(part for part in question.parts if not isinstance(part, Text)) + (Text(text),)
    return [*messages[:-1], replace(question, parts=parts)]


def citations_of(hits: Sequence[Hit]) -> list[Citation]:
    return [Citation(rank, hit.path, hit.page, hit.score, hit.text[:EXCERPT_CHARS])
            for rank, hit in enumerate(hits, start=1)]  # fmt: skip


class Retrieval:
    """Engine.chat's `augment` for one question: finds the chunks on the worker and keeps them as `cited`."""

    def __init__(self, store_path: Path, library_names: Sequence[str], embedder: WorkerEmbedder, k: int = TOP_K):
        self.store_path, self.library_names, self.embedder, self.k = store_path, list(library_names), embedder, k
        self.cited: Future[list[Citation]] = Future()
        """Set once the prompt is made (an error if retrieval failed, and the answer with it)."""

    def __call__(self, messages: list[Message]) -> list[Message]:
        try:
            hits = self.find(messages[-1].text if messages else "")
        except BaseException as e:
            self.cited.set_exception(e)
            raise
        self.cited.set_result(citations_of(hits))
        return with_excerpts(messages, hits)

    def find(self, question: str) -> list[Hit]:
        store = LibraryStore(self.store_path)
        try:
            libraries = [store.named(name) for name in self.library_names]
            return search(store.db, libraries, question, self._embed_query, self.k)
        finally:
            store.close()

    def _embed_query(self, encoder: str, text: str) -> list[float]:
        return self.embedder.embed_here(encoder, [text])[0]
