"""Ollama request bodies (/api/chat, /api/generate) -> what the engine needs.

Sampling defaults are Ollama's documented ones (temperature 0.8, top_k 40, top_p 0.9, repeat_penalty
1.1). Like Ollama, unknown `options` (num_ctx, num_gpu, ...) are ignored; fields that would change the
answer and are not supported here are refused; `images` (base64) are read and checked, and refused later if the
model reads text only; `think` turns the model's thinking on or off (or sets gpt-oss's effort); `format` constrains
the answer to JSON or a schema, `tools` offers functions. Messages are read into typed parts, tool calls and results
included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.messages import Image, Message, Part, Reasoning, ToolCall, ToolResult, system, text_parts
from engine.server.errors import ApiError
from engine.server.fields import MAX_SEED, Fields, greedy_when_top_p_is_zero
from engine.server.image_requests import checked_images
from engine.server.output_format import ollama_format
from engine.server.reasoning_flags import ollama_think
from engine.server.tool_requests import ollama_tool_choice
from engine.tools.choice import ToolChoice

ROLES = ("system", "user", "assistant", "tool")


@dataclass(frozen=True)
class OllamaRequest:
    model: str
    settings: SamplingSettings
    stream: bool


@dataclass(frozen=True)
class OllamaChat(OllamaRequest):
    messages: list[Message]
    tools: ToolChoice | None = None


@dataclass(frozen=True)
class OllamaGenerate(OllamaRequest):
    messages: list[Message]
    """The prompt as chat messages (system + user), when the chat template applies."""
    raw_prompt: str | None
    """The prompt as given, when `raw` asks for no template."""


def settings_from_options(options: Fields, default_max_tokens: int) -> SamplingSettings:
    predict = options.integer("num_predict", -1)
    seed = options.integer("seed", None, None, MAX_SEED)
    temperature, top_p = greedy_when_top_p_is_zero(options.number("temperature", 0.8, 0, 5),
                                                   options.number("top_p", 0.9, 0, 1))
    try:
        return SamplingSettings(
            temperature=temperature,
            top_p=top_p,
            top_k=options.integer("top_k", 40, 0),
            min_p=options.number("min_p", 0.0, 0, 1),
            repetition_penalty=options.number("repeat_penalty", 1.1),
            presence_penalty=options.number("presence_penalty", 0.0),
            frequency_penalty=options.number("frequency_penalty", 0.0),
            max_tokens=predict if predict > 0 else default_max_tokens,
            seed=seed if seed is None or seed >= 0 else None,  # Ollama: a negative seed means a random one
            stop=options.strings("stop"),
        )
    except ValueError as e:
        raise ApiError.invalid(f"invalid options: {e}") from None


def images(raw: Any, param: str) -> tuple[Part, ...]:
    """Ollama's `images`: base64 strings."""
    if raw is None:
        return ()
    if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
        raise ApiError.invalid(f"invalid {param}: expected an array of base64 strings", param)
    return tuple(Image(data=item) for item in raw)


def tool_calls(fields: Fields, where: str) -> tuple[Part, ...]:
    """Ollama's tool calls carry no id and give the arguments as an object."""
    calls = []
    for index, raw in enumerate(fields.raw("tool_calls") or []):
        function = Fields(raw, f"{where}.tool_calls[{index}]").nested("function")
        arguments = function.raw("arguments") or {}
        calls.append(ToolCall("", function.string("name", required=True), json.dumps(arguments)))
    return tuple(calls)


def chat_message(raw: Any, index: int) -> Message:
    where = f"messages[{index}]"
    fields = Fields(raw, where)
    role = fields.string("role", required=True)
    if role not in ROLES:
        raise ApiError.invalid(f"invalid role '{role}' in {where}", f"{where}.role")
    content = fields.string("content", "")
    if role == "tool":
        return Message("tool", (ToolResult("", content, fields.string("tool_name")),))
    thinking = fields.string("thinking")
    thought = (Reasoning(thinking),) if thinking else ()
    attached = images(fields.raw("images"), f"{where}.images")
    return Message(role, thought + text_parts(content) + attached + tool_calls(fields, where))


def parse_chat(body: Any, default_max_tokens: int) -> OllamaChat:
    fields = Fields(body)
    model = fields.string("model", required=True)
    messages = checked_images([chat_message(raw, i) for i, raw in enumerate(fields.items("messages"))],
                              "messages[{index}].images")
    settings = replace(ollama_think(fields.raw("think")).applied(settings_from_options(fields.nested("options"),
                                                                                      default_max_tokens)),
                       grammar=ollama_format(fields.raw("format")))
    return OllamaChat(model, settings, fields.boolean("stream", True), messages, ollama_tool_choice(fields))


def parse_generate(body: Any, default_max_tokens: int) -> OllamaGenerate:
    fields = Fields(body)
    model = fields.string("model", required=True)
    if fields.raw("tools"):
        raise ApiError.unsupported("tools", "Tool calling on /api/generate (use /api/chat)")
    if fields.given("suffix") or fields.raw("context") or fields.given("template"):
        raise ApiError.unsupported("suffix", "suffix, context and template")
    prompt = fields.string("prompt", required=True)
    instructions = fields.string("system")
    question = Message("user", text_parts(prompt) + images(fields.raw("images"), "images"))
    messages = checked_images(([system(instructions)] if instructions else []) + [question], "images")
    settings = replace(ollama_think(fields.raw("think")).applied(settings_from_options(fields.nested("options"),
                                                                                      default_max_tokens)),
                       grammar=ollama_format(fields.raw("format")))
    raw = prompt if fields.boolean("raw", False) else None
    return OllamaGenerate(model, settings, fields.boolean("stream", True), messages, raw)
