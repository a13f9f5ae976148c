"""Tool calls read out of an answer as it streams: text outside the call markers is passed on at once
(holding back only what may be the start of a marker), the text of a call is held until its end marker
(or the end of the answer, for formats without one) and then parsed with the family's parser.

A call that does not parse, or that the answer cut short, is passed on as text: the client sees what the
model wrote rather than losing it.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from engine.messages import ToolCall
from engine.tools.format import ToolFormat

TextOrCall = str | ToolCall


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def as_calls(parsed: Any) -> list[ToolCall]:
    """mlx_lm's parsed call(s) as ToolCall parts, arguments as JSON text (the OpenAI wire form)."""
    items = parsed if isinstance(parsed, list) else [parsed]
    calls = []
    for item in items:
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ValueError(f"not a tool call: {item!r}")
        arguments = item.get("arguments", {})
        text = arguments if isinstance(arguments, str) else json.dumps(arguments)
        calls.append(ToolCall(item.get("id") or new_call_id(), item["name"], text))
    return calls


class ToolCallReader:
    """Feed it the answer's text as it comes; it returns text pieces and finished ToolCalls, in order."""

    def __init__(self, form: ToolFormat, tools: list[dict[str, Any]]) -> None:
        self._form, self._tools = form, tools
        self._pending = ""
        self._in_call = False
        self.calls = 0
        """Calls read so far."""

    def feed(self, text: str) -> list[TextOrCall]:
        self._pending += text
        pieces: list[TextOrCall] = []
        while True:
            if not self._in_call:
                start = self._pending.find(self._form.call_start)
                if start < 0:
                    keep = held_back(self._pending, self._form.call_start)
                    pieces += nonempty(self._pending[: len(self._pending) - keep])
                    self._pending = self._pending[len(self._pending) - keep :]
                    return pieces
                pieces += nonempty(self._pending[:start])
                self._pending, self._in_call = self._pending[start:], True
            end = self._pending.find(self._form.call_end, len(self._form.call_start)) if self._form.call_end else -1
            if end < 0:
                return pieces
            whole = self._pending[: end + len(self._form.call_end)]
            pieces += self._parsed(whole)
            self._pending, self._in_call = self._pending[len(whole) :], False

    def finish(self) -> list[TextOrCall]:
        """At the end of the answer: a call without an end marker is parsed (Mistral); held-back text is passed on."""
        rest, self._pending = self._pending, ""
        if self._in_call and not self._form.call_end:
            return self._parsed(rest)
        return nonempty(rest)

    def _parsed(self, whole: str) -> list[TextOrCall]:
        inner = whole[len(self._form.call_start) : len(whole) - len(self._form.call_end)]
        try:
            calls = as_calls(self._form.parse(inner, self._tools))
        except Exception:  # noqa: BLE001 — each family's parser raises its own kinds; the text is kept
            return [whole]
        self.calls += len(calls)
        return list(calls)

    def split(self, text: str) -> tuple[str, list[ToolCall]]:
        """A whole answer: its text without the calls, and the calls."""
        pieces = self.feed(text) + self.finish()
        return "".join(p for p in pieces if isinstance(p, str)), [p for p in pieces if isinstance(p, ToolCall)]


def nonempty(text: str) -> list[TextOrCall]:
    return [text] if text else []


def held_back(text: str, marker: str) -> int:
    """Length of the longest end of `text` that `marker` starts with."""
    for n in range(min(len(marker) - 1, len(text)), 0, -1):
        if text.endswith(marker[:n]):
            return n
    return 0
