"""Typed messages -> the dicts a Hugging Face chat template reads (`tokenizer.apply_chat_template`).

Plain text becomes `{"role", "content"}` exactly as it always was, so prompts (and their prompt cache)
do not change. Tool calls become the assistant's `tool_calls`, tool results a "tool" message; reasoning
is passed as `reasoning_content` to templates that read it (Qwen3, DeepSeek-R1 style) and dropped
elsewhere, as those models' own chat formats do. An attached file whose text was read out (engine/attachments.py)
is written into its message as a fenced block; images go to a model that reads them as content items, and are
refused for a text-only model (as files sent as bytes are) with a readable error instead of being left out silently.
"""

from __future__ import annotations

import json
from typing import Any

from engine.attachments import readable_text
from engine.errors import CabinError
from engine.messages import File, Image, Message, Reasoning, ToolCall, ToolResult

REASONING_KEYS = {
    "reasoning_content": ("reasoning_content",),
    "thinking": ("message.thinking", "message['thinking']", 'message["thinking"]'),
}
"""What templates call an assistant message's thinking (Qwen3 and most others; gpt-oss), and how a
template that reads it spells it ("thinking" alone is no sign: `enable_thinking` holds it too)."""
THINKING_SWITCH = "enable_thinking"
EFFORT_SWITCH = "reasoning_effort"


class UnsupportedContent(CabinError):
    """A message holds something this model cannot read (an image for a text-only model)."""


def refuse_attachments(messages: list[Message], vision: bool = False) -> None:
    """Raise UnsupportedContent naming the first image (unless the model reads images), or file without its text."""
    for index, message in enumerate(messages):
        for part in message.parts:
            if isinstance(part, Image) and not vision or isinstance(part, File) and part.text is None:
                what = "an image" if isinstance(part, Image) else "a file"
                raise UnsupportedContent(f"message {index + 1} holds {what}, but this model reads text only")


def template_messages(messages: list[Message], template: str | None = None, vision: bool = False) -> list[dict[str, Any]]:
    """The conversation as chat-template dicts; `template` (its Jinja source) decides whether reasoning is kept.

    With `vision` (a model that reads images), a message holding images gets its content as a list: an
    `{"type": "image", "image": Image}` item per image, then its text (engine/backends/mlx_vlm.py renders them)."""
    refuse_attachments(messages, vision)
    key = reasoning_key(template)
    return [_with_images(message, rendered) for message in messages for rendered in _template_message(message, key)]


def _with_images(message: Message, rendered: dict[str, Any]) -> dict[str, Any]:
    images = message.of_kind(Image)
    if not images or rendered["role"] == "tool":
        return rendered
    items = [{"type": "image", "image": image} for image in images]
    return rendered | {"content": items + [{"type": "text", "text": rendered["content"]}]}


def reasoning_key(template: str | None) -> str | None:
    """The message field a template reads an earlier answer's thinking from (None: it reads none).

    `reasoning_content` (Qwen3 style) or `thinking` (gpt-oss): those templates decide which turns keep it
    (both drop it from answers before the last question). A template that reads neither gets none: it
    could not place it (DeepSeek-R1's shows earlier answers without their thinking)."""
    for key, spellings in REASONING_KEYS.items():
        if template and any(spelling in template for spelling in spellings):
            return key
    return None


def takes_thinking_switch(template: str | None) -> bool:
    """Whether the template can be asked to think or not (`enable_thinking`: Qwen3, SmolLM3)."""
    return bool(template) and THINKING_SWITCH in template


def template_switches(template: str, thinking: bool | None, reasoning_effort: str | None) -> dict[str, Any]:
    """The keyword arguments that steer a template's reasoning: `enable_thinking` (None: the template's default;
    templates without the switch ignore it) and `reasoning_effort`, passed only to a template that reads it."""
    switches: dict[str, Any] = {} if thinking is None else {THINKING_SWITCH: thinking}
    if reasoning_effort is not None and EFFORT_SWITCH in template:
        switches[EFFORT_SWITCH] = reasoning_effort
    return switches


def _template_message(message: Message, reasoning: str | None) -> list[dict[str, Any]]:
    """One dict, or one per result for a tool message answering several calls."""
    results = message.of_kind(ToolResult)
    if message.role == "tool" and results:
        return [_tool_message(result) for result in results]
    rendered: dict[str, Any] = {"role": message.role, "content": readable_text(message)}
    calls = message.of_kind(ToolCall)
    if calls:
        rendered["tool_calls"] = [_tool_call(call) for call in calls]
    thought = "".join(part.text for part in message.of_kind(Reasoning))
    if reasoning and thought:
        rendered[reasoning] = thought
    return [rendered]


def _tool_call(call: ToolCall) -> dict[str, Any]:
    """Templates index into the arguments (`arguments.items()`), so JSON objects are passed parsed."""
    try:
        arguments: Any = json.loads(call.arguments)
    except ValueError:
        arguments = call.arguments
    if not isinstance(arguments, dict):
        arguments = call.arguments
    return {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}


def _tool_message(result: ToolResult) -> dict[str, Any]:
    rendered = {"role": "tool", "tool_call_id": result.call_id, "content": result.content}
    if result.name:
        rendered["name"] = result.name
    return rendered


def plain_prompt(messages: list[Message]) -> str:
    """For a model without a chat template (a base model): `Role: text` lines, then the assistant's cue."""
    refuse_attachments(messages)
    return "\n".join(f"{m.role.capitalize()}: {readable_text(m)}" for m in messages) + "\nAssistant:"
