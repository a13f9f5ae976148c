"""A question answered from a library: its best chunks go into the prompt, headed by file and page, and become
the answer's citations; indexing runs in the background."""

from __future__ import annotations

import threading
from pathlib import Path

from engine.generation import Engine, SamplingSettings
from engine.library.documents import Documents
from engine.library.embedder import WorkerEmbedder
from engine.library.indexer import Indexer, IndexRun
from engine.library.retrieval import INSTRUCTION, with_excerpts
from engine.library.search import Hit, bm25_ranking, vector_ranking
from engine.library.store import Citation, LibraryStore
from engine.messages import File, system, user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=4)


def indexed(store: LibraryStore, engine: Engine, encoder: Path, *paths: Path, name: str = "docs") -> Documents:
    library = store.create(name, encoder)
    for path in paths:
        store.add_source(library, path)
    embedder = WorkerEmbedder(engine)
    IndexRun(store.path, name, embedder.embed, lambda _progress: None).run()
    return Documents(store.path, [name], embedder)


def test_the_excerpts_come_before_the_question_headed_by_file_and_page() -> None:
    hits = [Hit(1, "/docs/report.pdf", 2, "Revenue grew", 0.03), Hit(2, "/docs/notes.md", None, "Call Bob", 0.01)]
    question = user("What grew?", [File(name="extra.txt", text="attached")])
    asked = with_excerpts([system("Be brief."), question], hits)
    assert asked[0] == system("Be brief.")
    assert asked[-1].text == (f'{INSTRUCTION}\n\nreport.pdf, page 2:\n"Revenue grew"\n\nnotes.md:\n"Call Bob"\n\n'
                              "Question: What grew?")  # fmt: skip
    assert asked[-1].of_kind(File) == question.of_kind(File)


def test_without_hits_the_question_is_unchanged() -> None:
    messages = [user("Hello")]
    assert with_excerpts(messages, []) is messages


def test_an_answer_gets_the_chunks_in_its_prompt_and_keeps_them_as_citations(
    llama_engine: Engine, library_store: LibraryStore, tiny_encoder: Path, report_pdf: Path, handbook: Path
) -> None:
    documents = indexed(library_store, llama_engine, tiny_encoder, report_pdf, handbook)
    question = [user("How much did revenue grow?")]
    plain = llama_engine.chat(question, GREEDY, conversation_id=None).result()
    retrieval = documents.retrieval()
    answered = llama_engine.chat(question, GREEDY, conversation_id=None, augment=retrieval).result()
    assert answered.error is None
    citations = retrieval.cited.result()
    assert citations[0] == Citation(1, str(report_pdf), 1, citations[0].score, "Quarterly report Revenue grew by 12 percent")
    assert [c.rank for c in citations] == list(range(1, len(citations) + 1)) and len(citations) == 4
    assert answered.stats.prompt_tokens > plain.stats.prompt_tokens + 40


def test_the_real_encoder_finds_the_document_that_shares_no_word_with_the_question(
    engine: Engine, library_store: LibraryStore, minilm_encoder: Path, handbook: Path
) -> None:
    documents = indexed(library_store, engine, minilm_encoder, handbook)
    library = library_store.named("docs")
    for question, expected in [("annual leave allowance", "leave.md"),
                               ("reimbursement after business trips", "expenses.md"),
                               ("archiving onto remote machines nightly", "backup.py")]:  # fmt: skip
        assert bm25_ranking(library_store.db, [library], question) == []
        vector = documents.embedder.embed(library.encoder, [question])[0]
        nearest = vector_ranking(library_store.db, [library], {library.encoder: vector})[0]
        path = library_store.db.execute("SELECT f.path FROM chunks c JOIN files f ON f.id = c.file_id WHERE c.id=?",
                                        (nearest,)).fetchone()[0]  # fmt: skip
        assert Path(path).name == expected, question


def test_indexing_runs_in_the_background_and_reports_progress_from_its_thread(
    engine: Engine, library_store: LibraryStore, tiny_encoder: Path, handbook: Path
) -> None:
    library_store.add_source(library_store.create("docs", tiny_encoder), handbook)
    threads = set()
    indexer = Indexer(library_store.path, WorkerEmbedder(engine).embed)
    try:
        final = indexer.start("docs", lambda _progress: threads.add(threading.current_thread().name)).result(60)
    finally:
        indexer.shutdown()
    assert final.finished and final.done == 3
    assert threads and all(name.startswith("cabin-indexer") for name in threads)
