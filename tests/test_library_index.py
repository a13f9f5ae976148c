"""Indexing a library: chunks with their BM25 rows and vectors, progress, notes for what cannot be read,
only changed files read again, resuming where a stopped run left off, and the fused search."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from engine.generation import Engine
from engine.library.embedder import WorkerEmbedder
from engine.library.indexer import IndexRun, Progress
from engine.library.search import bm25_ranking, fuse, search, vector_ranking
from engine.library.store import INDEXED, SKIPPED, LibraryStore, Summary


@pytest.fixture
def embed(engine: Engine):
    return WorkerEmbedder(engine).embed


def index(store: LibraryStore, embed, name: str = "handbook", **options) -> list[Progress]:
    seen: list[Progress] = []
    IndexRun(store.path, name, embed, seen.append, **options).run()
    return seen


def new_library(store: LibraryStore, encoder: Path, *paths: Path, name: str = "handbook"):
    library = store.create(name, encoder)
    for path in paths:
        store.add_source(library, path)
    return library


def test_a_folder_is_indexed_with_text_bm25_rows_and_vectors(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    library = library_store.named("handbook")
    db = library_store.db
    assert library_store.summary(library).indexed == 3
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 3
    assert db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 3
    assert db.execute(f"SELECT count(*) FROM vectors_{library.id}").fetchone()[0] == 3
    assert library.dims == 32


def test_progress_counts_every_file_then_finishes(library_store, tiny_encoder, handbook, embed) -> None:
    new_library(library_store, tiny_encoder, handbook)
    seen = index(library_store, embed)
    assert [(p.done, p.total) for p in seen] == [(0, 3), (1, 3), (2, 3), (3, 3), (3, 3)]
    assert seen[-1].finished and seen[-1].chunks == 3
    assert {Path(p.path).name for p in seen if p.path} == {"leave.md", "expenses.md", "backup.py"}


def test_unreadable_files_get_notes_and_the_others_are_indexed(library_store, tiny_encoder, handbook, locked_pdf,
                                                               embed) -> None:  # fmt: skip
    (handbook / "data.txt").write_bytes(b"\x00\x01binary")
    (handbook / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    library = new_library(library_store, tiny_encoder, handbook, locked_pdf)
    index(library_store, embed)
    notes = {Path(r.path).name: (r.state, r.note) for r in library_store.files(library)}
    assert notes["locked.pdf"] == (SKIPPED, "locked.pdf is encrypted: save an unlocked copy and attach that.")
    assert notes["data.txt"][0] == SKIPPED and notes["data.txt"][1].startswith("data.txt is not a text file")
    assert [notes[n][0] for n in ("leave.md", "expenses.md", "backup.py")] == [INDEXED] * 3
    folder_note = {Path(s.path).name: s.note for s in library_store.sources(library)}["handbook"]
    assert folder_note.startswith("1 file that is not a document was passed over")


def test_a_folder_over_the_cap_indexes_the_first_files_and_says_so(library_store, tiny_encoder, tmp_path, embed) -> None:
    folder = tmp_path / "big"
    folder.mkdir()
    for i in range(8):
        (folder / f"note{i}.txt").write_text(f"note number {i}")
    library = new_library(library_store, tiny_encoder, folder, name="big")
    index(library_store, embed, name="big", cap=5)
    assert [Path(r.path).name for r in library_store.files(library)] == [f"note{i}.txt" for i in range(5)]
    assert library_store.sources(library)[0].note.startswith("big holds 8 documents: the first 5 by path are indexed")


def test_unchanged_files_are_not_read_again(library_store, tiny_encoder, handbook, embed) -> None:
    new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    assert index(library_store, embed)[-1].chunks == 0


def test_a_changed_file_is_indexed_again_and_found_by_its_new_text(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    (handbook / "expenses.md").write_text("Expenses now need a signed form from finance.")
    assert index(library_store, embed)[-1].chunks == 1
    hits = search(library_store.db, [library_store.named("handbook")], "signed form", None)
    assert hits[0].path.endswith("expenses.md") and "signed form" in hits[0].text
    assert search(library_store.db, [library], "receipt", None) == []


def test_a_touched_file_with_the_same_content_is_not_embedded_again(library_store, tiny_encoder, handbook,
                                                                    embed) -> None:  # fmt: skip
    new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    os.utime(handbook / "leave.md", (1_000_000_000, 1_000_000_000))
    assert index(library_store, embed)[-1].chunks == 0
    record = next(r for r in library_store.files(library_store.named("handbook")) if r.path.endswith("leave.md"))
    assert record.mtime == 1_000_000_000


def test_a_deleted_file_leaves_the_index(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    (handbook / "leave.md").unlink()
    index(library_store, embed)
    assert library_store.summary(library).indexed == 2
    assert search(library_store.db, [library], "holiday", None) == []
    assert library_store.db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 2


def test_small_files_are_embedded_together(library_store, tiny_encoder, handbook, embed) -> None:
    new_library(library_store, tiny_encoder, handbook)
    batches: list[int] = []

    def counting(encoder: str, texts: list[str]) -> list[list[float]]:
        batches.append(len(texts))
        return embed(encoder, texts)

    index(library_store, counting)
    assert batches == [3]


def test_a_stopped_run_resumes_with_the_files_it_had_not_reached(library_store, tiny_encoder, tmp_path, embed) -> None:
    folder = tmp_path / "long"
    folder.mkdir()
    for name in ("a.txt", "b.txt", "c.txt"):  # 34 chunks each: every file fills a batch of its own
        (folder / name).write_text(" ".join(f"{name}{i}" for i in range(5000)))
    library = new_library(library_store, tiny_encoder, folder, name="handbook")
    stop = threading.Event()

    def stop_after_first_file(progress: Progress) -> None:
        if progress.done == 1:
            stop.set()

    IndexRun(library_store.path, "handbook", embed, stop_after_first_file, stop).run()
    assert library_store.summary(library) == Summary(indexed=1, skipped=0, pending=2, chunks=34)
    reopened = LibraryStore(library_store.path)  # as after a restart
    try:
        assert index(reopened, embed)[-1].chunks == 68
        assert reopened.summary(library).indexed == 3
    finally:
        reopened.close()


def test_bm25_ranks_the_chunk_with_the_rare_word_first(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    best = bm25_ranking(library_store.db, [library], "how many days of holiday?")[0]
    text = library_store.db.execute("SELECT text FROM chunks WHERE id=?", (best,)).fetchone()[0]
    assert text.startswith("# Holiday policy")


def test_fts5_syntax_in_a_question_is_only_words(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    assert bm25_ranking(library_store.db, [library], 'holiday" OR NEAR(*') != []
    assert bm25_ranking(library_store.db, [library], "?!") == []


def test_the_nearest_vector_is_the_chunk_with_the_same_text(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    library = library_store.named("handbook")
    text = (handbook / "expenses.md").read_text()
    nearest = vector_ranking(library_store.db, [library], {library.encoder: embed(library.encoder, [" ".join(text.split())])[0]})
    chunk = library_store.db.execute("SELECT text FROM chunks WHERE id=?", (nearest[0],)).fetchone()[0]
    assert chunk.startswith("# Expenses")


def test_reciprocal_rank_fusion_adds_one_over_sixty_plus_rank() -> None:
    fused = dict(fuse([7, 8], [8, 9]))
    assert fused == pytest.approx({7: 1 / 61, 8: 1 / 62 + 1 / 61, 9: 1 / 62})
    assert [chunk for chunk, _ in fuse([7, 8], [8, 9])] == [8, 7, 9]


def test_removing_a_library_removes_its_chunks_and_vectors(library_store, tiny_encoder, handbook, embed) -> None:
    library = new_library(library_store, tiny_encoder, handbook)
    index(library_store, embed)
    library_store.remove(library_store.named("handbook"))
    db = library_store.db
    assert db.execute("SELECT count(*) FROM chunks").fetchone()[0] == 0
    assert db.execute("SELECT count(*) FROM chunks_fts").fetchone()[0] == 0
    assert db.execute(f"SELECT count(*) FROM sqlite_master WHERE name='vectors_{library.id}'").fetchone()[0] == 0


def test_stop_in_the_middle_of_a_long_document_waits_for_one_batch_and_leaves_it_for_next_time(
    library_store, tiny_encoder, tmp_path, embed
) -> None:
    long = tmp_path / "long.txt"
    long.write_text(" ".join(f"word{i}" for i in range(150 * 100)))  # 100 chunks: 4 batches
    library = new_library(library_store, tiny_encoder, long, name="long")
    stop, batches = threading.Event(), []

    def embed_then_stop(encoder: str, texts: list[str]) -> list[list[float]]:
        batches.append(len(texts))
        stop.set()
        return embed(encoder, texts)

    IndexRun(library_store.path, "long", embed_then_stop, lambda _p: None, stop).run()
    assert batches == [32]
    assert library_store.summary(library) == Summary(indexed=0, skipped=0, pending=1, chunks=0)
    assert index(library_store, embed, name="long")[-1].chunks == 100


def test_a_folder_of_ten_thousand_files_is_capped_with_a_note(tmp_path) -> None:
    from engine.library.indexer import MAX_FILES, collect

    for i in range(10_000):
        (tmp_path / f"note{i:05d}.txt").write_text("x")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG")
    found, note = collect(tmp_path)
    assert len(found) == MAX_FILES == 5000 and found[-1].name == "note04999.txt"
    assert note == (f"{tmp_path.name} holds 10,000 documents: the first 5,000 by path are indexed (add its subfolders "
                    "one by one for the rest); 1 file that is not a document was passed over (Cabin indexes text, "
                    "Markdown, code, PDF and DOCX).")  # fmt: skip
