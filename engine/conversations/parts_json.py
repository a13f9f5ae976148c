"""Message parts as the store keeps them: a JSON array of objects, each tagged with its "type"."""

from __future__ import annotations

import dataclasses
import json

from engine.messages import File, Image, Part, Reasoning, Text, ToolCall, ToolResult

KINDS: dict[str, type[Part]] = {
    "text": Text,
    "reasoning": Reasoning,
    "tool_call": ToolCall,
    "tool_result": ToolResult,
    "image": Image,
    "file": File,
}
TAGS = {kind: tag for tag, kind in KINDS.items()}


class PartsError(ValueError):
    pass


def tagged(parts: tuple[Part, ...]) -> list[dict]:
    """The parts as JSON-ready objects, each with its "type"."""
    return [{"type": TAGS[type(part)], **dataclasses.asdict(part)} for part in parts]


def encode(parts: tuple[Part, ...]) -> str:
    return json.dumps(tagged(parts), ensure_ascii=False)


def decode(text: str) -> tuple[Part, ...]:
    return tuple(_part(item) for item in json.loads(text))


def _part(item: dict) -> Part:
    values = dict(item)
    kind = KINDS.get(values.pop("type", None))
    if kind is None:
        raise PartsError(f"unknown message part {item.get('type')!r}")
    return kind(**values)


def text_of(text: str) -> str:
    """The visible text of encoded parts (for searching inside SQLite)."""
    return "".join(part.text for part in decode(text) if isinstance(part, Text))
