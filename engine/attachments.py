"""Files attached to a message: their text read out (plain text, Markdown, code, PDF), how that text reads to a
model, and whether it fits in what the context length leaves.

An attached file is kept in its message as a `File` part holding its name and its text (not its bytes), so a
reopened conversation still shows it and later turns still see it; `readable_text` writes it into the prompt as
a fenced block headed by the file's name. Everything here is plain Python (pypdf for PDFs), for the window and
the CLI alike.
"""

from __future__ import annotations

import mimetypes
import re
from dataclasses import dataclass
from pathlib import Path

from engine.errors import CabinError
from engine.messages import File, Message, Text

MAX_FILE_BYTES = 50 * 1024**2
"""Larger files are refused before reading: no context holds their text anyway."""
SNIFF_BYTES = 8192
IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp", ".bmp", ".tif", ".tiff", ".heic", ".heif", ".avif"}
READS = "Cabin reads text, Markdown, code and PDF files"


class AttachmentError(CabinError):
    """A file that cannot be attached; the message is one line naming the file."""


def read_attachment(path: Path) -> File:
    """`path` as a File part with its text; AttachmentError for images, binaries, unreadable or encrypted PDFs."""
    name = path.name
    if path.suffix.lower() in IMAGE_SUFFIXES:
        raise AttachmentError(f"{name} is an image: a vision model reads images; {READS}.")
    try:
        size = path.stat().st_size
        if size > MAX_FILE_BYTES:
            raise AttachmentError(f"{name} is {size / 1024**2:,.0f} MB: too big to attach.")
        text = pdf_text(path) if path.suffix.lower() == ".pdf" else plain_text(path)
    except OSError as e:
        raise AttachmentError(f"Could not read {name}: {e.strerror or e}.") from None
    if not text.strip():
        scanned = " (a scanned PDF holds only pictures of its pages)" if path.suffix.lower() == ".pdf" else ""
        raise AttachmentError(f"{name} has no text to read{scanned}.")
    return File(name=name, media_type=mimetypes.guess_type(name)[0] or "text/plain", text=text)


def plain_text(path: Path) -> str:
    """A text file's contents (UTF-8, with or without BOM); AttachmentError for anything binary."""
    data = path.read_bytes()
    if b"\x00" in data[:SNIFF_BYTES]:
        raise AttachmentError(f"{path.name} is not a text file: {READS}.")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise AttachmentError(f"{path.name} is not UTF-8 text: {READS}.") from None


def pdf_text(path: Path) -> str:
    """The text of every page, pages separated by blank lines. Encrypted or damaged PDFs raise AttachmentError."""
    return "\n\n".join(pdf_pages(path)).strip()


def pdf_pages(path: Path) -> list[str]:
    """Each page's text, in order (a page without text is ""). Encrypted or damaged PDFs raise AttachmentError."""
    from pypdf import PdfReader

    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise AttachmentError(f"{path.name} is encrypted: save an unlocked copy and attach that.")
        return [page.extract_text() or "" for page in reader.pages]
    except AttachmentError:
        raise
    except Exception as e:  # noqa: BLE001 — pypdf raises many kinds of error on damaged files; one line says which
        detail = str(e).split("\n")[0] or type(e).__name__
        raise AttachmentError(f"{path.name} could not be read as a PDF ({detail}).") from None


def file_block(file: File) -> str:
    """The file as the model reads it: its name, then its text in a fence longer than any the text holds."""
    longest = max((len(run) for run in re.findall(r"`{3,}", file.text or "")), default=2)
    fence = "`" * (longest + 1)
    return f"{file.name}\n{fence}\n{(file.text or '').rstrip()}\n{fence}"


def readable_text(message: Message) -> str:
    """What a model reads of a message: its attached files' blocks, then its text."""
    blocks = [file_block(part) for part in message.parts if isinstance(part, File) and part.text is not None]
    text = "".join(part.text for part in message.parts if isinstance(part, Text))
    return "\n\n".join(blocks + ([text] if text or not blocks else []))


@dataclass(frozen=True)
class Room:
    """The context a conversation has left for attachments."""

    context_length: int
    used: int
    """Tokens the conversation's prompt already takes (and files already attached to the next message)."""
    reserved: int
    """Kept for the answer, as the context fitting does (engine/generation/context_window.py)."""

    @classmethod
    def of(cls, context_length: int, used: int, max_tokens: int) -> Room:
        return cls(context_length, used, min(max_tokens, context_length // 2))

    @property
    def free(self) -> int:
        return max(0, self.context_length - self.reserved - self.used)

    def refusal(self, name: str, tokens: int) -> str | None:
        """Why a file of `tokens` cannot join this conversation, or None when it fits."""
        if tokens <= self.free:
            return None
        return f"{name} is {tokens:,} tokens; this conversation has room for {self.free:,} of {self.context_length:,}."
