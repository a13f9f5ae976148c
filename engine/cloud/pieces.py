"""What a cloud answer's stream is read into, whichever wire format carried it, and how it fails."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from engine.attachments import readable_text
from engine.messages import Message


class CloudError(Exception):
    """The cloud did not answer (or stopped answering): one line saying why, never the API key."""


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Usage:
    """Token counts the provider reported; None where this event did not say."""

    input_tokens: int | None = None
    output_tokens: int | None = None


@dataclass(frozen=True)
class Done:
    finish_reason: str
    """"stop" or "length", in the engine's words."""


Piece = Delta | Usage | Done
HttpRequest = tuple[str, dict[str, str], dict[str, Any]]
"""(url, headers, JSON body) of one streaming request."""


def plain_turns(messages: list[Message]) -> tuple[str, list[dict[str, str]]]:
    """(system text, user/assistant turns as {"role", "content"}) with attached files' text inline, as the
    local model reads them; consecutive turns of one role are joined (Anthropic requires alternation)."""
    system = "\n\n".join(m.text for m in messages if m.role == "system" and m.text)
    turns: list[dict[str, str]] = []
    for message in messages:
        if message.role not in ("user", "assistant"):
            continue
        text = readable_text(message)
        if turns and turns[-1]["role"] == message.role:
            turns[-1]["content"] += "\n\n" + text
        else:
            turns.append({"role": message.role, "content": text})
    return system, turns


def first_line(text: str, limit: int = 200) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def json_object(data: str) -> dict[str, Any]:
    """One event's JSON payload, or CloudError."""
    try:
        payload = json.loads(data)
    except ValueError:
        raise CloudError(f"The provider sent something that is not JSON: {first_line(data, 80)}") from None
    if not isinstance(payload, dict):
        raise CloudError("The provider sent an event that is not a JSON object")
    return payload


def error_message(body: Any) -> str:
    """The provider's own words from an error body: {"error": {"message": ...}} (both wire formats) or
    {"error": "..."}."""
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict):
        return first_line(str(error.get("message") or error.get("type") or error))
    return first_line(str(error or body))
