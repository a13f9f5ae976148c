"""Small PDFs written with pypdf (no network, no reportlab): pages of Helvetica text, optionally encrypted."""

from __future__ import annotations

from pathlib import Path

from pypdf import PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject


def _font(writer: PdfWriter):
    font = {"/Type": "/Font", "/Subtype": "/Type1", "/BaseFont": "/Helvetica"}
    return writer._add_object(DictionaryObject({NameObject(k): NameObject(v) for k, v in font.items()}))


def write_pdf(path: Path, pages: list[str], password: str | None = None) -> Path:
    """A PDF whose page i shows the lines of pages[i] (ASCII, no parentheses) in 12-point Helvetica."""
    writer = PdfWriter()
    font = _font(writer)
    for text in pages:
        page = writer.add_blank_page(612, 792)
        page[NameObject("/Resources")] = DictionaryObject({NameObject("/Font"): DictionaryObject({NameObject("/F1"): font})})
        lines = b" ".join(b"(%s) Tj 0 -16 Td" % line.encode("ascii") for line in text.splitlines())
        content = DecodedStreamObject()
        content.set_data(b"BT /F1 12 Tf 72 720 Td " + lines + b" ET")
        page[NameObject("/Contents")] = writer._add_object(content)
    if password is not None:
        writer.encrypt(password, algorithm="RC4-128")
    with path.open("wb") as out:
        writer.write(out)
    return path
