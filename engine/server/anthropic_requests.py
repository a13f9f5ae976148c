"""Anthropic Messages API request bodies (POST /v1/messages) -> what the engine needs.

`max_tokens` is required, as Anthropic requires it. Content blocks are read into typed parts: text, tool_use
(a ToolCall), tool_result (a ToolResult, its own "tool" message as chat templates expect) and thinking (the
model's earlier Reasoning); images and documents are refused, since no model here reads them. `tools` take
an `input_schema`; `tool_choice` auto / any / tool / none goes the one tool path (engine/server/tool_requests.py);
`thinking` turns the template's thinking on or off (its token budget is not enforced separately: `max_tokens`
bounds thinking and answer together); `output_config` sets the effort (for a template that reads it) and a JSON
schema `format` that constrains the answer (engine/structured). Sampling settings the newest client no longer
names (temperature, top_p, top_k) are still read. Unknown fields are refused, as Anthropic refuses extra inputs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.messages import Message, Part, Reasoning, Text, ToolCall, ToolResult
from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.server.output_format import compiled
from engine.server.reasoning_flags import ReasoningFlags, openai_effort
from engine.structured.grammar import Grammar, json_schema_grammar
from engine.server.tool_requests import openai_tool_choice
from engine.tools.choice import ToolChoice

IGNORED_FIELDS = {"metadata", "service_tier", "cache_control", "inference_geo", "speed", "diagnostics",
                  "user_profile_id", "workspace_id"}
KNOWN_FIELDS = IGNORED_FIELDS | {
    "model", "messages", "max_tokens", "system", "stop_sequences", "temperature", "top_p", "top_k", "stream",
    "tools", "tool_choice", "thinking", "output_config",
}
CHOICES = {"auto": "auto", "any": "required", "none": "none"}
"""Anthropic's tool_choice types -> the engine's modes ("tool" names one)."""


@dataclass(frozen=True)
class AnthropicRequest:
    model: str
    settings: SamplingSettings
    stream: bool
    messages: list[Message]
    tools: ToolChoice | None


def refuse_unknown(fields: Fields) -> None:
    unknown = sorted(fields.names() - KNOWN_FIELDS)
    if unknown:
        raise ApiError.invalid(f"{unknown[0]}: Extra inputs are not permitted", unknown[0])


def block_text(content: Any, param: str) -> str:
    """A tool_result's or the system prompt's content: a string or text blocks."""
    if isinstance(content, str):
        return content
    if not isinstance(content, list):
        raise ApiError.invalid(f"{param}: Input should be a valid string or a list of content blocks", param)
    texts = []
    for index, raw in enumerate(content):
        block = Fields(raw, f"{param}.{index}")
        if block.string("type", required=True) != "text":
            raise ApiError.unsupported(f"{param}.{index}.type",
                                       f"Content of type {block.raw('type')} (this model reads text only)")
        texts.append(block.string("text", required=True))
    return "".join(texts)


def content_block(raw: Any, where: str) -> Part:
    block = Fields(raw, where)
    kind = block.string("type", required=True)
    if kind == "text":
        return Text(block.string("text", required=True))
    if kind == "tool_use":
        arguments = block.raw("input")
        if not isinstance(arguments, dict):
            raise ApiError.invalid(f"{where}.input: Input should be an object", f"{where}.input")
        return ToolCall(block.string("id", required=True), block.string("name", required=True), json.dumps(arguments))
    if kind == "tool_result":
        result = block_text(block.raw("content") or "", f"{where}.content")
        return ToolResult(block.string("tool_use_id", required=True), result)
    if kind in ("thinking", "redacted_thinking"):
        return Reasoning(block.string("thinking", ""))
    raise ApiError.unsupported(f"{where}.type", f"Content of type {kind} (this model reads text only)")


def chat_messages(raw: Any, where: str) -> list[Message]:
    """One Anthropic message: tool results become their own "tool" message, ahead of any text beside them."""
    fields = Fields(raw, where)
    role = fields.string("role", required=True)
    if role not in ("user", "assistant"):
        raise ApiError.invalid(f"{where}.role: Input should be 'user' or 'assistant'", f"{where}.role")
    content = fields.raw("content")
    if isinstance(content, str):
        return [Message(role, (Text(content),) if content else ())]
    if not isinstance(content, list):
        raise ApiError.invalid(f"{where}.content: Field required (a string or a list of content blocks)",
                               f"{where}.content")
    parts = [content_block(block, f"{where}.content.{index}") for index, block in enumerate(content)]
    results = tuple(part for part in parts if isinstance(part, ToolResult))
    rest = tuple(part for part in parts if not isinstance(part, ToolResult) and part != Reasoning(""))
    return ([Message("tool", results)] if results else []) + ([Message(role, rest)] if rest or not results else [])


def system_message(fields: Fields) -> list[Message]:
    text = block_text(fields.raw("system") or "", "system")
    return [Message("system", (Text(text),))] if text else []


def chat_shaped_tools(fields: Fields) -> Fields:
    """Anthropic's tools ({"name", "description", "input_schema"}) and tool_choice in chat completions' shape, so
    the one tool path reads them."""
    raw_tools = fields.raw("tools")
    tools = raw_tools
    if isinstance(raw_tools, list):
        tools = [chat_tool(tool, f"tools.{index}") for index, tool in enumerate(raw_tools)]
    choice = fields.nested("tool_choice")
    kind = choice.string("type", "auto")
    if kind == "tool":
        mode: Any = {"type": "function", "function": {"name": choice.string("name", required=True)}}
    elif kind in CHOICES:
        mode = CHOICES[kind]
    else:
        raise ApiError.invalid("tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'", "tool_choice")
    return Fields({"tools": tools, "tool_choice": mode if tools else None})


def chat_tool(raw: Any, where: str) -> dict[str, Any]:
    tool = Fields(raw, where)
    kind = tool.string("type", "custom")
    if kind != "custom":
        raise ApiError.unsupported(f"{where}.type", f"Server tools ({kind})")
    function = {"name": tool.string("name", required=True), "parameters": tool.raw("input_schema")}
    if tool.given("description"):
        function["description"] = tool.raw("description")
    return {"type": "function", "function": function}


def thinking_flags(fields: Fields) -> ReasoningFlags:
    """`thinking`: {"type": "enabled", "budget_tokens": n}, {"type": "disabled"} or {"type": "adaptive"}."""
    kind = fields.nested("thinking").string("type")
    if kind is None or kind == "adaptive":
        return ReasoningFlags()
    if kind not in ("enabled", "disabled"):
        raise ApiError.invalid("thinking.type: Input should be 'enabled', 'disabled' or 'adaptive'", "thinking.type")
    return ReasoningFlags(thinking=kind == "enabled")


def output_format(config: Fields) -> Grammar | None:
    """`output_config.format`: {"type": "json_schema", "schema": {...}}."""
    spec = config.nested("format")
    if not spec.names():
        return None
    if spec.string("type", required=True) != "json_schema":
        raise ApiError.invalid("output_config.format.type: Input should be 'json_schema'", "output_config.format.type")
    schema = spec.raw("schema")
    if not isinstance(schema, dict):
        raise ApiError.invalid("output_config.format.schema: Input should be an object", "output_config.format.schema")
    return compiled("output_config.format.schema", json_schema_grammar, schema, "the output format schema")


def sampling(fields: Fields) -> SamplingSettings:
    try:
        settings = SamplingSettings(temperature=fields.number("temperature", 1.0, 0, 1),
                                    top_p=fields.number("top_p", 1.0, 0, 1), top_k=fields.integer("top_k", 0, 0),
                                    max_tokens=fields.integer("max_tokens", None, 1),
                                    stop=fields.strings("stop_sequences"))
    except ValueError as e:
        raise ApiError.invalid(f"Invalid sampling settings: {e}.") from None
    config = fields.nested("output_config")
    effort = config.raw("effort")
    flags = thinking_flags(fields).merged(openai_effort("xhigh" if effort == "max" else effort, "output_config.effort"))
    return replace(flags.applied(settings), grammar=output_format(config))


def parse_messages(body: Any) -> AnthropicRequest:
    fields = Fields(body)
    if not fields.given("max_tokens"):
        raise ApiError.invalid("max_tokens: Field required", "max_tokens")
    return parsed(fields)


def parse_count_tokens(body: Any) -> AnthropicRequest:
    """/v1/messages/count_tokens: a message request without `max_tokens`, counted rather than answered."""
    fields = Fields(body)
    if fields.given("max_tokens") or fields.given("stream"):
        name = "max_tokens" if fields.given("max_tokens") else "stream"
        raise ApiError.invalid(f"{name}: Extra inputs are not permitted", name)
    return parsed(Fields({**body, "max_tokens": 1}))


def parsed(fields: Fields) -> AnthropicRequest:
    refuse_unknown(fields)
    model = fields.string("model", required=True)
    turns = fields.items("messages")
    messages = system_message(fields) + [
        message for index, raw in enumerate(turns) for message in chat_messages(raw, f"messages.{index}")]
    tools = openai_tool_choice(chat_shaped_tools(fields))
    return AnthropicRequest(model, sampling(fields), fields.boolean("stream", False), messages, tools)
