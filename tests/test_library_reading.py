"""Documents read page by page and cut into chunks that remember their page."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.library.chunker import chunk_pages
from engine.library.readers import Page, ReadError, read_pages


def test_a_pdf_is_read_with_its_page_numbers(report_pdf: Path) -> None:
    pages = read_pages(report_pdf)
    assert [page.number for page in pages] == [1, 2]
    assert "Revenue grew by 12 percent" in pages[0].text
    assert "Outlook: steady" in pages[1].text


def test_a_markdown_file_is_one_page_without_a_number(handbook: Path) -> None:
    assert read_pages(handbook / "leave.md") == [Page(None, (handbook / "leave.md").read_text())]


def test_a_word_document_is_read(tmp_path: Path) -> None:
    import docx

    document = docx.Document()
    document.add_paragraph("Minutes of the board meeting")
    document.add_table(rows=1, cols=1).cell(0, 0).text = "Budget approved"
    document.save(str(tmp_path / "minutes.docx"))
    text = read_pages(tmp_path / "minutes.docx")[0].text
    assert "Minutes of the board meeting" in text and "Budget approved" in text


@pytest.mark.parametrize("name, content, reason", [
    ("photo.txt", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "photo.txt is not a text file"),
    ("empty.md", b"   \n", "empty.md has no text to read"),
    ("broken.pdf", b"%PDF-1.4 this is not really a PDF", "broken.pdf could not be read as a PDF"),
    ("broken.docx", b"not a zip file", "broken.docx could not be read as a Word document"),
    ("archive.zip", b"PK\x03\x04", "archive.zip: not a document Cabin reads"),
])  # fmt: skip
def test_what_cannot_be_read_says_why_in_one_line(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    (tmp_path / name).write_bytes(content)
    with pytest.raises(ReadError) as raised:
        read_pages(tmp_path / name)
    assert str(raised.value).startswith(reason)
    assert "\n" not in str(raised.value)


def test_an_encrypted_pdf_says_so(locked_pdf: Path) -> None:
    with pytest.raises(ReadError, match="locked.pdf is encrypted"):
        read_pages(locked_pdf)


def test_chunks_overlap_and_never_span_two_pages() -> None:
    words = [f"w{i}" for i in range(25)]
    pages = [Page(1, " ".join(words)), Page(2, "second page text")]
    chunks = chunk_pages(pages, size=10, overlap=2)
    assert [(chunk.page, chunk.text.split()[0]) for chunk in chunks] == [(1, "w0"), (1, "w8"), (1, "w16"), (2, "second")]
    assert chunks[0].text.split()[-2:] == chunks[1].text.split()[:2]
    assert [chunk.ordinal for chunk in chunks] == [0, 1, 2, 3]


def test_a_short_page_is_one_chunk_with_its_whitespace_normalised() -> None:
    assert [c.text for c in chunk_pages([Page(None, "  a\n\n b\tc ")])] == ["a b c"]
