"""Files in the conversation, in the window with the tiny llama: attach, see the chip, send, reopen."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QUrl

from app.chat.chips import FileChip
from engine.attachments import file_block, readable_text
from engine.chat_template import template_messages
from engine.messages import File
from tests.app_fixtures import WAIT, chat_pane, send


def attach(qtbot, pane, *paths: Path) -> None:
    pane.open_files(list(paths))
    qtbot.waitUntil(lambda: not pane.attacher.pending, timeout=WAIT)


def chip_texts(widget) -> list[str]:
    return [chip.label.text() for chip in widget.findChildren(FileChip)]


def write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path / name


def test_attached_files_go_into_the_sent_message_with_their_token_counts(qtbot, window, tmp_path, report_pdf) -> None:
    pane = chat_pane(window)
    notes = write(tmp_path, "notes.md", "# Plan\n\n- ship it\n")
    code = write(tmp_path, "prime.py", "def is_prime(n):\n    return n > 1\n")
    attach(qtbot, pane, notes, code, report_pdf)
    counted = [window.context.engine.count_tokens(file_block(f)).result() for f in pane.composer.attachments]
    assert chip_texts(pane.composer) == [f"{name} · {n:,} tokens" for name, n in
                                         zip(("notes.md", "prime.py", "report.pdf"), counted, strict=True)]
    send(qtbot, pane, "Summarize these.")
    asked = pane.session.thread[-2].message
    assert [f.name for f in asked.of_kind(File)] == ["notes.md", "prime.py", "report.pdf"]
    read = readable_text(asked)
    assert "- ship it" in read and "def is_prime(n):" in read and "Revenue grew by 12 percent" in read
    assert read.endswith("Summarize these.")
    assert pane.composer.attachments == [] and not pane.composer.chip_bar.isVisibleTo(pane.composer)


def test_the_sent_message_shows_its_chips(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "notes.md", "alpha beta"))
    send(qtbot, pane, "Read this.")
    assert chip_texts(pane.chat.views[0])[0].startswith("notes.md · ")


def test_a_chip_removed_before_sending_is_not_sent(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "a.txt", "alpha"), write(tmp_path, "b.txt", "beta"))
    pane.composer.chips[0].remove_button.click()
    send(qtbot, pane, "Which file?")
    assert [f.name for f in pane.session.thread[-2].message.of_kind(File)] == ["b.txt"]


def test_a_file_alone_can_be_sent_and_names_the_conversation(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "todo.txt", "buy milk"))
    send(qtbot, pane, "")
    assert window.context.store.conversation(pane.session.conversation_id).title == "todo.txt"


def test_a_file_that_would_overflow_the_context_is_refused_with_the_numbers(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    window.context.settings.update({"context_length": 512, "max_tokens": 64})
    attach(qtbot, pane, write(tmp_path, "long.txt", "word " * 3000))
    notice = pane.composer.hint.text()
    assert notice.startswith("long.txt is ") and " tokens; this conversation has room for " in notice
    assert notice.endswith(" of 512.") and pane.composer.attachments == []


def test_files_that_cannot_be_read_get_one_line_each_and_the_chat_goes_on(qtbot, window, tmp_path, locked_pdf) -> None:
    pane = chat_pane(window)
    (tmp_path / "cat.jpg").write_bytes(b"\xff\xd8\xff\xe0")
    (tmp_path / "app.bin").write_bytes(b"\x7fELF\x00\x00")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 garbage")
    for path, says in [(tmp_path / "cat.jpg", "cat.jpg is an image: tiny-llama reads text only"),
                       (tmp_path / "app.bin", "app.bin is not a text file"),
                       (tmp_path / "broken.pdf", "broken.pdf could not be read as a PDF"),
                       (locked_pdf, "locked.pdf is encrypted")]:  # fmt: skip
        attach(qtbot, pane, path)
        assert pane.composer.hint.text().startswith(says) and "\n" not in pane.composer.hint.text()
    assert pane.composer.attachments == []
    send(qtbot, pane, "Hello")
    assert pane.session.thread[-1].role == "assistant"


def test_files_dropped_into_the_text_box_are_attached_not_pasted(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(write(tmp_path, "notes.md", "alpha")))])
    pane.composer.edit.insertFromMimeData(mime)
    qtbot.waitUntil(lambda: pane.composer.attachments != [], timeout=WAIT)
    assert pane.composer.edit.toPlainText() == "" and chip_texts(pane.composer)[0].startswith("notes.md")


def test_chips_survive_reopening_the_conversation(qtbot, make_window, llama_model, tmp_path) -> None:
    window = make_window(llama_model)
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "notes.md", "alpha beta"))
    chip = chip_texts(pane.composer)[0]
    send(qtbot, pane, "Read this.")
    conversation = pane.session.conversation_id
    window.close()
    window.context.close()
    reopened = chat_pane(make_window())
    reopened.session.open(conversation)
    assert chip_texts(reopened.chat.views[0]) == [chip]
    assert reopened.session.thread[0].message.of_kind(File)[0].text == "alpha beta"


def test_without_a_model_a_file_is_attached_uncounted_then_counted_once_one_loads(
    qtbot, make_window, llama_model, tmp_path
) -> None:
    window = make_window()
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "notes.md", "alpha beta"))
    assert chip_texts(pane.composer) == ["notes.md"]
    window.context.models.load(llama_model)
    qtbot.waitUntil(lambda: chip_texts(pane.composer)[0].endswith(" tokens"), timeout=WAIT)


def test_later_turns_still_read_the_file(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "notes.md", "alpha beta"))
    send(qtbot, pane, "Read this.")
    send(qtbot, pane, "And the second word?")
    asked_with = template_messages([m.message for m in pane.session.thread[:-1]])
    assert asked_with[0]["content"] == "notes.md\n```\nalpha beta\n```\n\nRead this."


def test_editing_a_question_keeps_its_files(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "notes.md", "alpha beta"))
    send(qtbot, pane, "Read this.")
    pane.session.edit(pane.session.thread[0].id, "Read this carefully.")
    qtbot.waitUntil(lambda: not pane.session.busy, timeout=WAIT)
    edited = pane.session.thread[0]
    assert edited.text == "Read this carefully." and [f.name for f in edited.message.of_kind(File)] == ["notes.md"]


def test_a_file_attached_before_a_model_loads_is_taken_off_if_it_then_overflows(
    qtbot, make_window, llama_model, tmp_path
) -> None:
    window = make_window()
    window.context.settings.update({"context_length": 512, "max_tokens": 64})
    pane = chat_pane(window)
    attach(qtbot, pane, write(tmp_path, "long.txt", "word " * 3000))
    window.context.models.load(llama_model)
    qtbot.waitUntil(lambda: pane.composer.attachments == [], timeout=WAIT)
    assert pane.composer.hint.text().startswith("long.txt is ") and pane.composer.hint.text().endswith(" of 512.")


def test_sending_while_a_file_is_still_being_read_waits_for_it(qtbot, window, tmp_path) -> None:
    pane = chat_pane(window)
    pane.open_files([write(tmp_path, "notes.md", "alpha beta")])
    pane.composer.edit.setPlainText("Read this.")
    pane.composer.button.click()
    assert pane.session.conversation_id is None and pane.composer.hint.text().startswith("Still reading")
    qtbot.waitUntil(lambda: not pane.attacher.pending, timeout=WAIT)
    send(qtbot, pane, "Read this.")
    assert [f.name for f in pane.session.thread[-2].message.of_kind(File)] == ["notes.md"]
