"""Messages as the engine, the store and the API parsers share them: a role and a tuple of typed parts.

A part is plain frozen data. Text is what every model reads; reasoning is a model's own thinking
(kept apart so a template can drop or keep it); a tool call and its result carry what function calling
needs; images and files are attachments: a vision model reads images (engine/backends/mlx_vlm.py), and a model
that cannot read an attachment refuses it by name instead of losing it on the way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, Union

Role = Literal["system", "user", "assistant", "tool"]
ROLES: tuple[Role, ...] = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class Text:
    text: str


@dataclass(frozen=True)
class Reasoning:
    """What a model wrote while thinking, before its answer."""

    text: str


@dataclass(frozen=True)
class ToolCall:
    """The assistant asks for a function to be run."""

    id: str
    name: str
    arguments: str
    """As the model or the API wrote them: JSON text, not necessarily valid."""


@dataclass(frozen=True)
class ToolResult:
    """What a function returned, answering the ToolCall with the same id."""

    call_id: str
    content: str
    name: str | None = None


@dataclass(frozen=True)
class Image:
    """An image in a message: its bytes inline (`data`), or where to read them (`url`: a data: or file: URL).

    The conversation store keeps each image once, as a file named by its `sha256` beside the database, and
    gives it back with a file: URL to that file (engine/conversations/images.py); engine/images.py reads it."""

    url: str | None = None
    """A data: URL holding the image itself, or a file: URL (an http(s) URL is refused, never fetched)."""
    data: str | None = None
    """The image as base64, when it came without a URL (Ollama's `images`)."""
    detail: str | None = None
    sha256: str | None = None
    """Hex digest of the image's bytes, once known (the store names its file by it)."""
    media_type: str | None = None
    """"image/png", "image/jpeg"...; None: not known yet."""


@dataclass(frozen=True)
class File:
    """An attached document, by name: its text read out (the app's attachments, engine/attachments.py), or
    its bytes inline or a file id the caller gave (API requests, which a text-only model cannot read)."""

    name: str | None = None
    media_type: str | None = None
    data: str | None = None
    """Base64 or a data: URL."""
    file_id: str | None = None
    text: str | None = None
    """The document's text, as the model reads it (in a fenced block headed by the name)."""
    tokens: int | None = None
    """How many tokens that block took with the model loaded when it was attached (shown beside the name)."""


Part = Union[Text, Reasoning, ToolCall, ToolResult, Image, File]


@dataclass(frozen=True)
class Message:
    role: Role
    parts: tuple[Part, ...] = ()

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"unknown role {self.role!r}")

    @property
    def text(self) -> str:
        """The text parts, joined: what the user sees of the message."""
        return "".join(part.text for part in self.parts if isinstance(part, Text))

    def of_kind(self, kind: type[Part]) -> list[Part]:
        return [part for part in self.parts if isinstance(part, kind)]


def text_parts(text: str) -> tuple[Part, ...]:
    """A message body of plain text; empty text has no parts."""
    return (Text(text),) if text else ()


def system(text: str) -> Message:
    return Message("system", text_parts(text))


def user(text: str, files: Sequence[File | Image] = ()) -> Message:
    """The user's message: any attached files and images first (as the model will read them), then the text."""
    return Message("user", (*files, *text_parts(text)))


def assistant(text: str) -> Message:
    return Message("assistant", text_parts(text))
