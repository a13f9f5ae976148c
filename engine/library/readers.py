"""A document's text, page by page: plain text, Markdown and code (one page without a number), PDF (numbered
pages, through engine/attachments.py's reader) and Word .docx (python-docx).

Whatever cannot be read raises ReadError with one line naming the file and the reason; the indexer keeps it
as that file's note and goes on with the others.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from engine.attachments import MAX_FILE_BYTES, AttachmentError, pdf_pages, plain_text

TEXT_SUFFIXES = frozenset(
    ".txt .text .md .markdown .rst .org .tex .csv .tsv .log .json .yaml .yml .toml .ini .cfg .conf .xml .html .htm "
    ".css .py .pyi .js .jsx .ts .tsx .java .kt .swift .m .mm .c .h .cc .cpp .hpp .cs .go .rs .rb .php .pl .lua .r "
    ".scala .sh .bash .zsh .sql .ipynb".split()
)
READABLE_SUFFIXES = TEXT_SUFFIXES | {".pdf", ".docx"}


class ReadError(Exception):
    """A file that cannot be indexed; the message is one line naming the file."""


@dataclass(frozen=True)
class Page:
    number: int | None
    """1-based page of a PDF; None for documents without pages."""
    text: str


def is_readable(path: Path) -> bool:
    """Whether the indexer tries this file at all (by its suffix)."""
    return path.suffix.lower() in READABLE_SUFFIXES


def read_pages(path: Path) -> list[Page]:
    """The document's pages with text; ReadError for binaries, encrypted or damaged PDFs, empty or huge files."""
    suffix = path.suffix.lower()
    if not is_readable(path):
        raise ReadError(f"{path.name}: not a document Cabin reads (text, Markdown, code, PDF, DOCX).")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise ReadError(f"{path.name}: {size / 1024**2:,.0f} MB, larger than the {MAX_FILE_BYTES // 1024**2} MB limit.")
        pages = READERS.get(suffix, text_document)(path)
    except AttachmentError as e:
        raise ReadError(str(e)) from None
    except OSError as e:
        raise ReadError(f"{path.name}: could not be read ({e.strerror or e}).") from None
    kept = [page for page in pages if page.text.strip()]
    if not kept:
        scanned = " (a scanned PDF holds only pictures of its pages)" if suffix == ".pdf" else ""
        raise ReadError(f"{path.name} has no text to read{scanned}.")
    return kept


def text_document(path: Path) -> list[Page]:
    return [Page(None, plain_text(path))]


def pdf_document(path: Path) -> list[Page]:
    return [Page(number, text) for number, text in enumerate(pdf_pages(path), start=1)]


def docx_document(path: Path) -> list[Page]:
    """The paragraphs and table cells of a Word document, as one page (a .docx has no fixed pages)."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, ValueError, KeyError) as e:
        raise ReadError(f"{path.name} could not be read as a Word document ({e}).") from None
    cells = [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    return [Page(None, "\n\n".join([p.text for p in document.paragraphs] + cells))]


READERS = {".pdf": pdf_document, ".docx": docx_document}
"""By suffix; every other readable suffix is text."""
