"""A forced tool call (`tool_choice` "required" or a named function) as a grammar: the call markers, one of the
offered functions by name, and arguments that fit its JSON schema, then the end of the answer.

Only families whose calls are a JSON object (Qwen/Hermes `<tool_call>`, Mistral `[TOOL_CALLS]`) can be
forced this way; the caller refuses the others (ToolFormat.forceable).
"""

from __future__ import annotations

import json
from typing import Any

from engine.structured.grammar import JSON_STYLE, Grammar, lark_grammar
from engine.tools.format import ToolFormat

ANY_OBJECT = {"type": "object"}


def call_schema(functions: list[dict[str, Any]]) -> dict[str, Any]:
    """{"name": one of the functions, "arguments": that function's parameters}."""
    calls = [
        {
            "type": "object",
            "properties": {"name": {"const": f["name"]}, "arguments": f.get("parameters") or ANY_OBJECT},
            "required": ["name", "arguments"],
            "additionalProperties": False,
        }
        for f in functions
    ]
    schema = calls[0] if len(calls) == 1 else {"anyOf": calls}
    return {**schema, "x-guidance": JSON_STYLE}


def forced_call_grammar(form: ToolFormat, functions: list[dict[str, Any]]) -> Grammar:
    """The grammar of exactly one call, in the model's own format."""
    call = f"%json {json.dumps(call_schema(functions))}"
    names = ", ".join(f["name"] for f in functions)
    if form.family == "mistral":
        lark = f'start: {form.start_in_grammar} "[" call "]"\ncall: {call}\n'
    else:
        lark = f'start: {form.start_in_grammar} "\\n" call "\\n" {form.end_in_grammar}\ncall: {call}\n'
    return lark_grammar(lark, f"a call to {names}")
