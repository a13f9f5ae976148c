"""A conversation written out: Markdown for reading, JSON (every branch, with stats) for tools. Both carry the
messages' images inline (base64), so the file stands alone without the store's image folder, and each answer's
sources (the document excerpts it was given, engine/library/) as links to the files."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict
from datetime import datetime, timezone
from pathlib import Path

from app.chat.footer import footer_text
from engine.conversations.model import Conversation, MessageTree, StoredMessage
from engine.conversations.images import inline
from engine.conversations.parts_json import tagged
from engine.library.store import Citation
from engine.messages import Image

Sources = Mapping[str, list[Citation]]
"""Each answer's sources, by message id (answers without any are left out)."""

FORMAT_VERSION = 1


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def to_markdown(conversation: Conversation, thread: list[StoredMessage], sources: Sources | None = None) -> str:
    """The visible branch as a Markdown document: a heading per turn, each answer's sources and stats under it."""
    lines = [f"# {conversation.title}", "", f"_Exported from Cabin, {_iso(conversation.updated)}_", ""]
    if conversation.system_prompt.strip():
        lines += ["## System prompt", "", conversation.system_prompt.strip(), ""]
    for message in thread:
        heading = "You" if message.role == "user" else f"Assistant ({message.model})" if message.model else "Assistant"
        lines += [f"## {heading}", "", *image_lines(message), *thinking_lines(message.reasoning), message.text.strip(), ""]
        lines += source_lines((sources or {}).get(message.id, []))
        footer = footer_text(message)
        if footer:
            lines += [f"_{footer}_", ""]
    return "\n".join(lines)


def image_lines(message: StoredMessage) -> list[str]:
    """Each image of the message as a Markdown image with a data: URL."""
    images = [inline(part) for part in message.parts if isinstance(part, Image)]
    return [f"![image](data:{image.media_type or 'image/png'};base64,{image.data})\n" for image in images]


def source_url(citation: Citation) -> str:
    """The file's URL, at its page for a PDF (as the window's links open it)."""
    url = Path(citation.path).as_uri()
    return f"{url}#page={citation.page}" if citation.page is not None else url


def source_lines(citations: list[Citation]) -> list[str]:
    """"Sources: [1] [leave.md](file:///…) · [2] [report.pdf, p. 3](file:///…#page=3)", as under the answer."""
    if not citations:
        return []
    links = " · ".join(f"[{c.rank}] [{c.label}]({source_url(c)})" for c in citations)
    return [f"Sources: {links}", ""]


def thinking_lines(reasoning: str) -> list[str]:
    """An answer's thinking, marked as such and folded (a <details> block, as GitHub and most viewers show it)."""
    if not reasoning.strip():
        return []
    return ["<details><summary>Thinking</summary>", "", reasoning.strip(), "", "</details>", ""]


def to_json(conversation: Conversation, tree: MessageTree, thread: list[StoredMessage], sources: Sources | None = None
            ) -> str:  # fmt: skip
    """The whole conversation, every branch included; `thread` lists the ids of the visible branch."""
    document = {
        "format": "cabin-conversation",
        "version": FORMAT_VERSION,
        "conversation": {**asdict(conversation), "created": _iso(conversation.created), "updated": _iso(conversation.updated)},
        "thread": [m.id for m in thread],
        "messages": [_exported(m, (sources or {}).get(m.id, [])) for m in tree.messages.values()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _exported(message: StoredMessage, citations: list[Citation]) -> dict:
    """Its fields, with the parts tagged by type, the answer as "content", the thinking as "reasoning" and the
    document excerpts it was given as "sources"."""
    return {**asdict(message), "content": message.text, "reasoning": message.reasoning, "parts": tagged(_inline_images(message.parts)),
            "sources": [asdict(c) for c in citations], "created": _iso(message.created)}


def _inline_images(parts: tuple) -> tuple:
    return tuple(inline(part) if isinstance(part, Image) else part for part in parts)
