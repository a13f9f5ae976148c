"""Documents in the chat window (tiny llama, tiny random encoder): a folder added to a new chat is indexed in the
background, the answer shows its sources as links to the files, and they are still there after a restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.chat.citations import CitationList
from tests.app_fixtures import WAIT, add_folder_and_wait, chat_pane, close_window, send


def test_a_folder_added_to_a_new_chat_is_indexed_and_named_above_the_chat(qtbot, window, encoder_in_store,
                                                                          handbook) -> None:  # fmt: skip
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    qtbot.waitUntil(lambda: pane.documents_bar.summary.text() == "Answers use: handbook (3 files)", timeout=WAIT)


def test_the_answer_shows_its_sources_as_links_to_the_files(qtbot, window, encoder_in_store, handbook) -> None:
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    send(qtbot, pane, "Holiday policy in March?")
    sources = pane.chat.views[-1].findChild(CitationList)
    assert sources is not None and sources.isVisibleTo(pane.chat.views[-1])
    urls = sources.urls()
    assert len(urls) == 3 and urls[0] == (handbook / "leave.md").as_uri()
    assert "[1] leave.md" in sources.text()
    assert pane.chat.views[0].findChild(CitationList) is None  # the question has none


def test_sources_and_libraries_are_still_there_after_a_restart(qtbot, make_window, llama_model, encoder_in_store,
                                                               handbook) -> None:  # fmt: skip
    first = make_window(llama_model)
    pane = chat_pane(first)
    add_folder_and_wait(qtbot, pane, handbook)
    send(qtbot, pane, "Holiday policy in March?")
    conversation = pane.session.conversation_id
    close_window(first)
    reopened = chat_pane(make_window(llama_model))
    reopened.session.open(conversation)
    assert reopened.chat.views[-1].findChild(CitationList).urls()[0] == (handbook / "leave.md").as_uri()
    assert reopened.documents_bar.summary.text() == "Answers use: handbook (3 files)"


def test_a_pdf_source_links_to_its_page(qtbot, window, encoder_in_store, report_pdf) -> None:
    pane = chat_pane(window)
    pane.documents.add_paths(None, [report_pdf])
    qtbot.waitUntil(lambda: (p := pane.documents.progress.get("report")) is not None and p.finished, timeout=WAIT)
    send(qtbot, pane, "Outlook steady?")
    urls = pane.chat.views[-1].findChild(CitationList).urls()
    assert urls[0] == report_pdf.as_uri() + "#page=2"


def test_without_an_embedding_model_adding_a_folder_says_what_to_download(qtbot, window, handbook) -> None:
    pane = chat_pane(window)
    assert pane.documents.add_paths(None, [handbook]) is None
    assert pane.documents_bar.summary.text().startswith("no embedding model yet: download one with `cabin models pull")



def started(qtbot, make_window, model: Path):
    """A window started as app.main.start does (the panes' start: the chat catches its libraries up)."""
    window = make_window(model)
    window.start_panes()
    pane = chat_pane(window)
    qtbot.waitUntil(lambda: (p := pane.documents.progress.get("handbook")) is not None and p.finished, timeout=WAIT)
    return window, pane


def test_at_start_the_window_finishes_an_interrupted_indexing(qtbot, make_window, llama_model, encoder_in_store,
                                                              data_dir, handbook) -> None:  # fmt: skip
    from engine.library.encoders import index_path
    from engine.library.store import LibraryStore

    store = LibraryStore(index_path(data_dir))  # as a quit mid-way leaves it: files found, none indexed yet
    library = store.create("handbook", encoder_in_store)
    store.add_source(library, handbook)
    store.sync_files(library, sorted(p for p in handbook.rglob("*") if p.is_file()))
    store.close()
    _window, pane = started(qtbot, make_window, llama_model)
    assert pane.documents.store.summary(pane.documents.store.named("handbook")).indexed == 3


def test_at_start_the_window_follows_files_changed_while_it_was_closed(qtbot, make_window, llama_model,
                                                                       encoder_in_store, handbook) -> None:  # fmt: skip
    window = make_window(llama_model)
    add_folder_and_wait(qtbot, chat_pane(window), handbook)
    close_window(window)
    (handbook / "expenses.md").write_text("Expenses now need a signed form from finance.")
    _window, reopened = started(qtbot, make_window, llama_model)
    assert reopened.documents.progress["handbook"].chunks == 1
    library = reopened.documents.store.named("handbook")
    assert "signed form" in reopened.documents.store.db.execute(
        "SELECT group_concat(text) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.library_id=?", (library.id,)
    ).fetchone()[0]


def test_a_library_whose_encoder_is_gone_says_so_in_one_line(qtbot, window, data_dir, tmp_path, handbook) -> None:
    pane = chat_pane(window)
    library = pane.documents.store.create("handbook", tmp_path / "deleted-encoder")
    pane.documents.store.add_source(library, handbook)
    pane.documents.use(None, "handbook")
    pane.documents.update("handbook")
    qtbot.waitUntil(lambda: "could not be indexed" in pane.documents_bar.summary.text(), timeout=WAIT)
    text = pane.documents_bar.summary.text()
    assert text.startswith("handbook could not be indexed: could not load the embedding model at ")
    assert "\n" not in text


def test_a_file_changed_while_the_window_runs_is_reindexed_when_the_chat_asks_again(qtbot, window, encoder_in_store,
                                                                                    handbook) -> None:  # fmt: skip
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    (handbook / "expenses.md").write_text("Expenses now need a signed form from finance.")
    send(qtbot, pane, "How do I claim expenses?")
    library = pane.documents.store.named("handbook")
    qtbot.waitUntil(lambda: "signed form" in pane.documents.store.db.execute(
        "SELECT group_concat(text) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.library_id=?", (library.id,)
    ).fetchone()[0], timeout=WAIT)  # fmt: skip


def library_text(pane) -> str:
    library = pane.documents.store.named("handbook")
    return pane.documents.store.db.execute(
        "SELECT group_concat(text) FROM chunks c JOIN files f ON f.id = c.file_id WHERE f.library_id=?", (library.id,)
    ).fetchone()[0] or ""


def test_a_file_changed_while_the_window_runs_is_reindexed_without_a_question(qtbot, window, encoder_in_store,
                                                                             handbook) -> None:  # fmt: skip
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    (handbook / "expenses.md").write_text("Expenses now need a signed form from finance.")
    qtbot.waitUntil(lambda: "signed form" in library_text(pane), timeout=WAIT)


def test_a_file_added_to_a_subfolder_is_indexed_while_the_window_runs(qtbot, window, encoder_in_store,
                                                                     handbook) -> None:  # fmt: skip
    (handbook / "travel").mkdir()
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    (handbook / "travel" / "trains.md").write_text("Book trains second class; first class needs approval.")
    qtbot.waitUntil(lambda: "second class" in library_text(pane), timeout=WAIT)
    qtbot.waitUntil(lambda: pane.documents_bar.summary.text() == "Answers use: handbook (4 files)", timeout=WAIT)


def test_markdown_and_json_exports_carry_each_answers_sources(qtbot, window, encoder_in_store, handbook,
                                                             tmp_path) -> None:  # fmt: skip
    import json

    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    send(qtbot, pane, "Holiday policy in March?")
    pane.export(pane.session.conversation_id, "markdown", tmp_path / "chat.md")
    pane.export(pane.session.conversation_id, "json", tmp_path / "chat.json")
    assert f"Sources: [1] [leave.md]({(handbook / 'leave.md').as_uri()})" in (tmp_path / "chat.md").read_text()
    messages = json.loads((tmp_path / "chat.json").read_text())["messages"]
    question, answer = (next(m for m in messages if m["role"] == role) for role in ("user", "assistant"))
    assert question["sources"] == []
    assert [s["path"] for s in answer["sources"]][0] == str(handbook / "leave.md")


def test_a_library_removed_from_the_documents_menu_leaves_the_chat_and_the_index(qtbot, window, encoder_in_store,
                                                                                handbook, monkeypatch) -> None:  # fmt: skip
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    asked = []
    monkeypatch.setattr(pane.documents_bar, "confirm", lambda question, detail: asked.append(question) or True)
    pane.documents_bar.remove_library("handbook")
    assert asked == ["Remove the library handbook?"]
    assert pane.documents.store.find("handbook") is None and pane.documents_bar.summary.text() == ""
    assert (handbook / "leave.md").exists()


def test_removing_a_library_can_be_cancelled(qtbot, window, encoder_in_store, handbook, monkeypatch) -> None:
    pane = chat_pane(window)
    add_folder_and_wait(qtbot, pane, handbook)
    monkeypatch.setattr(pane.documents_bar, "confirm", lambda question, detail: False)
    pane.documents_bar.remove_library("handbook")
    assert pane.documents.store.find("handbook") is not None
