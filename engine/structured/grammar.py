"""What an answer must look like, as plain data: a JSON value, one fitting a JSON schema, or a Lark grammar.

A grammar is checked when it is made (`checked`), so a request with a schema the library cannot compile
is refused before it reaches the model. llguidance compiles JSON schemas and Lark grammars alike; its
JSON is written compactly (no free whitespace), so even a weak model cannot pad an answer forever.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from llguidance import LLMatcher

JSON_STYLE = {"whitespace_flexible": False, "item_separator": ", ", "key_separator": ": "}
"""One space after `,` and `:`, no other whitespace: readable and bounded."""


class GrammarError(ValueError):
    """A schema or grammar that cannot constrain an answer (not valid, or beyond what the library supports)."""


@dataclass(frozen=True)
class Grammar:
    """llguidance's serialized grammar: the same text whatever the runtime that applies it."""

    source: str
    description: str
    """What it asks for, for messages and logs ("JSON", "JSON schema 'person'", "a call to get_weather")."""


def json_schema_grammar(schema: dict[str, Any], description: str) -> Grammar:
    """Answers that are one JSON value fitting `schema` (any JSON Schema draft 2020-12 subset llguidance supports)."""
    if not isinstance(schema, dict):
        raise GrammarError("a JSON schema must be an object")
    source = LLMatcher.grammar_from_json_schema(json.dumps(schema), overrides=JSON_STYLE)
    return checked(Grammar(source, description))


def json_object_grammar() -> Grammar:
    """OpenAI's JSON mode and Ollama's `format: "json"`: any JSON object."""
    return json_schema_grammar({"type": "object"}, "a JSON object")


def lark_grammar(lark: str, description: str) -> Grammar:
    return checked(Grammar(LLMatcher.grammar_from_lark(lark), description))


def checked(grammar: Grammar) -> Grammar:
    """`grammar`, once llguidance agrees it can compile it; GrammarError with its reason otherwise."""
    is_error, messages = LLMatcher.validate_grammar_with_warnings(grammar.source)
    if is_error:
        raise GrammarError(f"{grammar.description} cannot be used to constrain the answer: {messages[0]}")
    return grammar
