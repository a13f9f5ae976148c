"""OpenAI Responses API request bodies (POST /v1/responses) -> what the engine needs.

Not stateful: each request carries its whole conversation in `input` (a string, or message, function_call and
function_call_output items), so `previous_response_id` and `conversation` are refused with a 400 saying so.
`text.format` constrains the answer (engine/structured), function `tools` go the way chat completions' do, and
`reasoning.effort` steers a template that reads it. Fields that only describe the caller are ignored; unknown
fields are refused, as OpenAI does.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.messages import Message, Part, Reasoning, Role, Text, ToolCall, ToolResult
from engine.server.errors import ApiError
from engine.server.fields import Fields, greedy_when_top_p_is_zero
from engine.server.openai_requests import refuse_unknown
from engine.server.output_format import compiled
from engine.server.reasoning_flags import openai_effort
from engine.server.tool_requests import openai_tool_choice
from engine.structured.grammar import Grammar, json_object_grammar, json_schema_grammar
from engine.tools.choice import ToolChoice

IGNORED_FIELDS = {"user", "metadata", "store", "service_tier", "parallel_tool_calls", "prompt_cache_key",
                  "safety_identifier", "truncation", "include", "prompt_cache_retention"}
KNOWN_FIELDS = IGNORED_FIELDS | {
    "model", "input", "instructions", "max_output_tokens", "temperature", "top_p", "stream", "stream_options",
    "text", "tools", "tool_choice", "reasoning", "previous_response_id", "conversation", "top_logprobs",
    "background", "max_tool_calls",
}
ROLES: dict[str, Role] = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant"}
TEXT_PARTS = {"input_text", "output_text", "text"}


@dataclass(frozen=True)
class ResponsesRequest:
    model: str
    settings: SamplingSettings
    stream: bool
    messages: list[Message]
    tools: ToolChoice | None
    echo: dict[str, Any]
    """The request's own settings, which a response object repeats (instructions, tools, text...)."""


def refuse_state(fields: Fields) -> None:
    for name in ("previous_response_id", "conversation"):
        if fields.given(name):
            raise ApiError.invalid(f"'{name}' is not supported: this server keeps no responses, so send the whole "
                                   "conversation in 'input'.", name, "unsupported_parameter")
    if fields.boolean("background", False):
        raise ApiError.unsupported("background", "Background responses")
    if fields.given("top_logprobs"):
        raise ApiError.unsupported("top_logprobs", "Returning log probabilities (top_logprobs)")


def text_of(content: Any, param: str) -> str:
    """An item's content: a string, or input_text / output_text parts (images and files are refused)."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ApiError.invalid(f"Invalid type for '{param}': expected a string or an array of content parts.", param,
                               "invalid_type")
    texts = []
    for index, raw in enumerate(content):
        part = Fields(raw, f"{param}[{index}]")
        kind = part.string("type", required=True)
        if kind not in TEXT_PARTS:
            raise ApiError.unsupported(f"{param}[{index}].type", f"Content of type {kind} (this model reads text only)")
        texts.append(part.string("text", required=True))
    return "".join(texts)


def with_part(messages: list[Message], role: Role, part: Part) -> None:
    """Add `part` to the last message when it has `role` (calls made in one turn share it), else a new one."""
    if messages and messages[-1].role == role and role != "user":
        messages[-1] = Message(role, messages[-1].parts + (part,))
    else:
        messages.append(Message(role, (part,)))


def input_item(messages: list[Message], raw: Any, where: str) -> None:
    fields = Fields(raw, where)
    kind = fields.string("type", "message")
    if kind == "function_call":
        call = ToolCall(fields.string("call_id", required=True), fields.string("name", required=True),
                        fields.string("arguments", ""))
        with_part(messages, "assistant", call)
    elif kind == "function_call_output":
        output = text_of(fields.raw("output") or "", f"{where}.output")
        messages.append(Message("tool", (ToolResult(fields.string("call_id", required=True), output),)))
    elif kind == "reasoning":
        summary = [Fields(part, f"{where}.summary").string("text", "") for part in fields.raw("summary") or []]
        content = [Fields(part, f"{where}.content").string("text", "") for part in fields.raw("content") or []]
        thought = "".join(content) or "".join(summary)
        if thought:
            with_part(messages, "assistant", Reasoning(thought))
    elif kind == "message":
        role = fields.string("role", required=True)
        if role not in ROLES:
            raise ApiError.invalid(f"Invalid value for '{where}.role': '{role}' is not one of system, developer, "
                                   "user, assistant.", f"{where}.role", "invalid_value")
        text = text_of(fields.raw("content") if fields.given("content") else "", f"{where}.content")
        if text:
            with_part(messages, ROLES[role], Text(text))
    else:
        raise ApiError.unsupported(f"{where}.type", f"Input items of type {kind}")


def input_messages(fields: Fields) -> list[Message]:
    """`instructions` as the system message, then `input`."""
    instructions = fields.string("instructions")
    messages = [Message("system", (Text(instructions),))] if instructions else []
    raw = fields.raw("input")
    if isinstance(raw, str):
        messages.append(Message("user", (Text(raw),)))
    elif isinstance(raw, list) and raw:
        for index, item in enumerate(raw):
            input_item(messages, item, f"input[{index}]")
    else:
        raise ApiError.invalid("Missing required parameter: 'input' (a string or a non-empty array of items).",
                               "input", "missing_required_parameter")
    return messages


def text_format(fields: Fields) -> Grammar | None:
    """`text.format`: {"type": "text"}, {"type": "json_object"} or {"type": "json_schema", "name", "schema"}."""
    spec = fields.nested("text").nested("format")
    kind = spec.string("type", "text")
    if kind == "text":
        return None
    if kind == "json_object":
        return json_object_grammar()
    if kind != "json_schema":
        raise ApiError.invalid(f"Invalid value for 'text.format.type': '{kind}' is not one of text, json_object, "
                               "json_schema.", "text.format.type", "invalid_value")
    name = spec.string("name", required=True)
    schema = spec.raw("schema")
    if not isinstance(schema, dict):
        raise ApiError.invalid("Invalid type for 'text.format.schema': expected an object.", "text.format.schema",
                               "invalid_type")
    return compiled("text.format.schema", json_schema_grammar, schema, f"the JSON schema '{name}'")


def chat_shaped_tools(fields: Fields) -> Fields:
    """Responses' flat function tools ({"type", "name", "parameters"}) and tool_choice in chat completions'
    nested shape, so the one tool path (engine/server/tool_requests.py) reads them."""
    raw_tools = fields.raw("tools")
    tools = raw_tools
    if isinstance(raw_tools, list):
        tools = [chat_tool(tool, f"tools[{index}]") for index, tool in enumerate(raw_tools)]
    choice = fields.raw("tool_choice")
    if isinstance(choice, dict) and choice.get("type") == "function":
        choice = {"type": "function", "function": {"name": choice.get("name")}}
    elif isinstance(choice, dict):
        raise ApiError.unsupported("tool_choice", f"tool_choice of type {choice.get('type')}")
    return Fields({"tools": tools, "tool_choice": choice})


def chat_tool(raw: Any, where: str) -> dict[str, Any]:
    tool = Fields(raw, where)
    kind = tool.string("type", required=True)
    if kind != "function":
        raise ApiError.unsupported(f"{where}.type", f"Tools of type {kind} (only function tools)")
    function = {key: tool.raw(key) for key in ("name", "description", "parameters") if tool.given(key)}
    return {"type": "function", "function": function}


def settings_of(fields: Fields, default_max_tokens: int) -> SamplingSettings:
    temperature, top_p = greedy_when_top_p_is_zero(fields.number("temperature", 1.0, 0, 2),
                                                   fields.number("top_p", 1.0, 0, 1))
    effort = openai_effort(fields.nested("reasoning").raw("effort"), "reasoning.effort")
    settings = SamplingSettings(temperature=temperature, top_p=top_p,
                                max_tokens=fields.integer("max_output_tokens", None, 16) or default_max_tokens)
    return replace(effort.applied(settings), grammar=text_format(fields))


def echoed(fields: Fields) -> dict[str, Any]:
    return {
        "instructions": fields.raw("instructions"),
        "max_output_tokens": fields.raw("max_output_tokens"),
        "temperature": fields.number("temperature", 1.0),
        "top_p": fields.number("top_p", 1.0),
        "tools": fields.raw("tools") or [],
        "tool_choice": fields.raw("tool_choice") or "auto",
        "text": {"format": fields.nested("text").raw("format") or {"type": "text"}},
        "reasoning": {"effort": fields.nested("reasoning").raw("effort"), "summary": None},
        "parallel_tool_calls": fields.boolean("parallel_tool_calls", True),
        "metadata": fields.raw("metadata") or {},
    }


def parse_responses(body: Any, default_max_tokens: int) -> ResponsesRequest:
    fields = Fields(body)
    refuse_unknown(fields, KNOWN_FIELDS)
    model = fields.string("model", required=True)
    refuse_state(fields)
    messages = input_messages(fields)
    settings = settings_of(fields, default_max_tokens)
    tools = openai_tool_choice(chat_shaped_tools(fields))
    return ResponsesRequest(model, settings, fields.boolean("stream", False), messages, tools, echoed(fields))
