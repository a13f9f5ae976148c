"""A conversation written out: Markdown for reading, JSON (every branch, with stats) for tools. Both carry the
messages' images inline (base64), so the file stands alone without the store's image folder."""

from __future__ import annotations

import json
from dataclasses import asdict
from datetime import datetime, timezone

from app.chat.footer import footer_text
from engine.conversations.model import Conversation, MessageTree, StoredMessage
from engine.conversations.images import inline
from engine.conversations.parts_json import tagged
from engine.messages import Image

FORMAT_VERSION = 1


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="seconds")


def to_markdown(conversation: Conversation, thread: list[StoredMessage]) -> str:
    """The visible branch as a Markdown document: a heading per turn, each answer's stats in italics."""
    lines = [f"# {conversation.title}", "", f"_Exported from Cabin, {_iso(conversation.updated)}_", ""]
    if conversation.system_prompt.strip():
        lines += ["## System prompt", "", conversation.system_prompt.strip(), ""]
    for message in thread:
        heading = "You" if message.role == "user" else f"Assistant ({message.model})" if message.model else "Assistant"
        lines += [f"## {heading}", "", *image_lines(message), *thinking_lines(message.reasoning), message.text.strip(), ""]
        footer = footer_text(message)
        if footer:
            lines += [f"_{footer}_", ""]
    return "\n".join(lines)


def image_lines(message: StoredMessage) -> list[str]:
    """Each image of the message as a Markdown image with a data: URL."""
    images = [inline(part) for part in message.parts if isinstance(part, Image)]
    return [f"![image](data:{image.media_type or 'image/png'};base64,{image.data})\n" for image in images]


def thinking_lines(reasoning: str) -> list[str]:
    """An answer's thinking, marked as such and folded (a <details> block, as GitHub and most viewers show it)."""
    if not reasoning.strip():
        return []
    return ["<details><summary>Thinking</summary>", "", reasoning.strip(), "", "</details>", ""]


def to_json(conversation: Conversation, tree: MessageTree, thread: list[StoredMessage]) -> str:
    """The whole conversation, every branch included; `thread` lists the ids of the visible branch."""
    document = {
        "format": "cabin-conversation",
        "version": FORMAT_VERSION,
        "conversation": {**asdict(conversation), "created": _iso(conversation.created), "updated": _iso(conversation.updated)},
        "thread": [m.id for m in thread],
        "messages": [_exported(m) for m in tree.messages.values()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False)


def _exported(message: StoredMessage) -> dict:
    """Its fields, with the parts tagged by type, the answer as "content" and the thinking as "reasoning"."""
    return {**asdict(message), "content": message.text, "reasoning": message.reasoning, "parts": tagged(_inline_images(message.parts)),
            "created": _iso(message.created)}


def _inline_images(parts: tuple) -> tuple:
    return tuple(inline(part) if isinstance(part, Image) else part for part in parts)
