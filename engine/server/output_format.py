"""Structured-output fields -> a grammar: OpenAI's `response_format`, Ollama's `format`.

A schema the grammar library cannot compile is a 400 naming the field, before anything is generated.
"""

from __future__ import annotations

from typing import Any

from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.structured.grammar import Grammar, GrammarError, json_object_grammar, json_schema_grammar


def compiled(param: str, make: Any, *args: Any) -> Grammar:
    try:
        return make(*args)
    except GrammarError as e:
        raise ApiError.invalid(f"Invalid '{param}': {e}", param, "invalid_value") from None


def openai_response_format(fields: Fields) -> Grammar | None:
    """{"type": "text"} (or none), {"type": "json_object"}, or {"type": "json_schema", "json_schema": {...}}."""
    response_format = fields.nested("response_format")
    kind = response_format.string("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        return json_object_grammar()
    if kind != "json_schema":
        raise ApiError.invalid(f"Invalid value for 'response_format.type': '{kind}' is not one of text, json_object, "
                               "json_schema.", "response_format.type", "invalid_value")
    spec = response_format.nested("json_schema")
    name = spec.string("name", required=True)
    schema = spec.raw("schema")
    if schema is None:
        return json_object_grammar()
    if not isinstance(schema, dict):
        raise ApiError.invalid("Invalid type for 'response_format.json_schema.schema': expected an object.",
                               "response_format.json_schema.schema", "invalid_type")
    return compiled("response_format.json_schema.schema", json_schema_grammar, schema, f"the JSON schema '{name}'")


def ollama_format(raw: Any) -> Grammar | None:
    """Ollama's `format`: "json", or a JSON schema object."""
    if raw in (None, ""):
        return None
    if raw == "json":
        return json_object_grammar()
    if isinstance(raw, dict):
        return compiled("format", json_schema_grammar, raw, "the format schema")
    raise ApiError.invalid('invalid format: expected "json" or a JSON schema object', "format")
