"""A model's tool-call format: how its template takes tools and how its answers write calls.

mlx_lm names the family when it loads a tokenizer (from the chat template or the vocabulary) and carries
its parser and call markers on the tokenizer wrapper; this reads them once, at load, into plain data
anyone may read. A model whose template takes no `tools`, or whose calls no parser reads, has no format:
a request with tools is then refused rather than answered with calls nobody would see.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

FORCEABLE = ("json_tools", "mistral")
"""Families whose calls are one JSON object per call, which a grammar can force (engine/tools/forced.py)."""


@dataclass(frozen=True)
class ToolFormat:
    family: str
    """mlx_lm's tool parser name: json_tools (Qwen, Hermes), mistral, pythonic, qwen3_coder, gemma4..."""
    call_start: str
    call_end: str
    """"" where a call runs to the end of the answer (Mistral's [TOOL_CALLS])."""
    parse: Callable[[str, Any], Any]
    """mlx_lm's parser: the text between the markers -> {"name", "arguments"} or a list of them."""
    start_in_grammar: str
    end_in_grammar: str
    """The markers as a Lark grammar writes them: a quoted string, or `<[id]>` for a special token."""

    @property
    def forceable(self) -> bool:
        return self.family in FORCEABLE


def tool_format(tokenizer: Any) -> ToolFormat | None:
    """The tool-call format of a loaded mlx_lm tokenizer; None when its template or its family has none."""
    template = getattr(tokenizer, "chat_template", None)
    if not isinstance(template, str) or "tools" not in template:
        return None
    if not getattr(tokenizer, "has_tool_calling", False) or tokenizer.tool_parser is None:
        return None
    family = tokenizer.init_kwargs.get("tool_parser_type", "unknown")
    start, end = tokenizer.tool_call_start, tokenizer.tool_call_end or ""
    markers = in_grammar(tokenizer, start), in_grammar(tokenizer, end)
    return ToolFormat(family, start, end, tokenizer.tool_parser, *markers)


def in_grammar(tokenizer: Any, marker: str) -> str:
    """A special token must be matched as that token (`<[id]>`): its text would spell it in ordinary tokens."""
    if not marker:
        return '""'
    ids = tokenizer.encode(marker, add_special_tokens=False)
    if len(ids) == 1 and ids[0] in set(tokenizer.all_special_ids):
        return f"<[{ids[0]}]>"
    return json.dumps(marker)
