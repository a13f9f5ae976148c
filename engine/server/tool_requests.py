"""Tool fields -> what the engine and the answer need: OpenAI's `tools` and `tool_choice`, Ollama's `tools`.

The loaded model decides the rest: its template must take tools and mlx_lm must have a parser for its
family (engine/tools/format.py), else a request offering tools is a 400 rather than an answer whose calls
nobody reads. A forced call (`required`, or a named function) is constrained by a grammar, which only
JSON-call families support; others refuse it by name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.server.output_format import compiled
from engine.tools.choice import ToolChoice
from engine.tools.forced import forced_call_grammar
from engine.tools.format import ToolFormat
from engine.tools.reader import ToolCallReader

NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def tool_definitions(fields: Fields) -> tuple[dict[str, Any], ...]:
    """`tools`: function definitions, each {"type": "function", "function": {"name", "description", "parameters"}}."""
    raw = fields.raw("tools")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise ApiError.invalid("Invalid type for 'tools': expected an array.", "tools", "invalid_type")
    return tuple(tool_definition(item, f"tools[{index}]") for index, item in enumerate(raw))


def tool_definition(raw: Any, where: str) -> dict[str, Any]:
    fields = Fields(raw, where)
    kind = fields.string("type", "function")
    if kind != "function":
        raise ApiError.unsupported(f"{where}.type", f"Tools of type {kind}")
    function = fields.nested("function")
    name = function.string("name", required=True)
    if not NAME.match(name):
        raise ApiError.invalid(f"Invalid '{where}.function.name': '{name}' must be 1 to 64 letters, digits, _ or -.",
                               f"{where}.function.name", "invalid_value")
    parameters = function.raw("parameters")
    if parameters is not None and not isinstance(parameters, dict):
        raise ApiError.invalid(f"Invalid type for '{where}.function.parameters': expected an object.",
                               f"{where}.function.parameters", "invalid_type")
    definition = {"name": name, "parameters": parameters or {"type": "object", "properties": {}}}
    if function.string("description"):
        definition["description"] = function.string("description")
    return {"type": "function", "function": definition}


def openai_tool_choice(fields: Fields) -> ToolChoice | None:
    """`tools` with `tool_choice`: "auto" (the default), "none", "required", or a named function
    ({"type": "function", "function": {"name": ...}})."""
    tools = tool_definitions(fields)
    raw = fields.raw("tool_choice")
    if raw is not None and not tools:
        raise ApiError.invalid("Invalid value for 'tool_choice': 'tool_choice' is only allowed when 'tools' are "
                               "specified.", "tool_choice", "invalid_value")
    if not tools:
        return None
    if raw is None or raw in ("auto", "none", "required"):
        return ToolChoice(tools, raw or "auto")
    named = Fields(raw, "tool_choice").nested("function") if isinstance(raw, dict) else None
    name = named.string("name", required=True) if named is not None else None
    if name is None:
        raise ApiError.invalid("Invalid value for 'tool_choice': expected 'none', 'auto', 'required' or a named "
                               "function.", "tool_choice", "invalid_value")
    if name not in {tool["function"]["name"] for tool in tools}:
        raise ApiError.invalid(f"Invalid value for 'tool_choice': no function named '{name}' is in 'tools'.",
                               "tool_choice", "invalid_value")
    return ToolChoice(tools, "named", name)


def ollama_tool_choice(fields: Fields) -> ToolChoice | None:
    tools = tool_definitions(fields)
    return ToolChoice(tools) if tools else None


@dataclass(frozen=True)
class ToolPlan:
    """One request's tools as the engine and the answer's reader need them."""

    settings: SamplingSettings
    """With the forced call's grammar, when the call is forced."""
    tools: tuple[dict[str, Any], ...]
    """For the chat template (empty when none are offered)."""
    reader: ToolCallReader | None
    """Reads calls out of the answer (None: no tools offered)."""


def plan_tools(choice: ToolChoice | None, form: ToolFormat | None, settings: SamplingSettings, model: str) -> ToolPlan:
    """What the engine renders and how the answer is read; a 400 when the loaded model cannot do what was asked."""
    if choice is None or not choice.offered:
        return ToolPlan(settings, (), None)
    if form is None:
        raise ApiError.invalid(f"Tool calling is not supported by the model '{model}': its chat template does not take "
                               "tools, or its tool-call format is not one Cabin can read.", "tools",
                               "tools_not_supported")
    reader = ToolCallReader(form, list(choice.tools))
    if not choice.forced:
        return ToolPlan(settings, choice.tools, reader)
    if not form.forceable:
        raise ApiError.invalid(f"A forced tool call (tool_choice '{choice.mode}') is not supported for the model "
                               f"'{model}': its tool-call format ({form.family}) cannot be constrained.", "tool_choice",
                               "unsupported_parameter")
    if settings.grammar is not None:
        raise ApiError.invalid("A forced tool call cannot be combined with a structured 'response_format'.",
                               "tool_choice", "invalid_value")
    grammar = compiled("tools", forced_call_grammar, form, choice.functions())
    return ToolPlan(replace(settings, grammar=grammar), choice.tools, reader)
