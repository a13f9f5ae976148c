"""OpenAI chat messages -> typed Messages: content strings or part arrays, tool calls, tool results.

Everything the format can say is read into its part (an image stays an Image: data: and file: URLs only) and only
then refused if the model cannot read it, so nothing is dropped on the way without the caller hearing of it.
"""

from __future__ import annotations

from typing import Any

from engine.messages import File, Image, Message, Part, Reasoning, Text, ToolCall, ToolResult
from engine.server.errors import ApiError
from engine.server.fields import Fields
from engine.server.image_requests import checked_images

ROLES = {"system": "system", "developer": "system", "user": "user", "assistant": "assistant", "tool": "tool"}


def content_parts(content: Any, param: str) -> tuple[Part, ...]:
    """A message's content: a string, or an array of text, image_url and file parts."""
    if isinstance(content, str):
        return (Text(content),) if content else ()
    if isinstance(content, list):
        return tuple(content_part(raw, f"{param}[{index}]") for index, raw in enumerate(content))
    raise ApiError.invalid(f"Invalid type for '{param}': expected a string or an array of content parts.", param,
                           "invalid_type")


def content_part(raw: Any, param: str) -> Part:
    fields = Fields(raw, param)
    kind = fields.string("type", required=True)
    if kind == "text":
        return Text(fields.string("text", required=True))
    if kind == "image_url":
        image = fields.nested("image_url")
        return Image(url=image.string("url", required=True), detail=image.string("detail"))
    if kind == "file":
        file = fields.nested("file")
        return File(file.string("filename"), None, file.string("file_data"), file.string("file_id"))
    raise ApiError.unsupported(param, f"Content of type {kind} (this model reads text only)")


def tool_calls(fields: Fields, where: str) -> tuple[Part, ...]:
    calls = []
    for index, raw in enumerate(fields.raw("tool_calls") or []):
        call = Fields(raw, f"{where}.tool_calls[{index}]")
        function = call.nested("function")
        calls.append(ToolCall(call.string("id", ""), function.string("name", required=True),
                              function.string("arguments", "")))
    return tuple(calls)


def tool_result(fields: Fields, where: str) -> Part:
    text = Message("tool", content_parts(fields.raw("content") or "", f"{where}.content")).text
    return ToolResult(fields.string("tool_call_id", required=True), text, fields.string("name"))


def chat_message(raw: Any, index: int) -> Message:
    where = f"messages[{index}]"
    fields = Fields(raw, where)
    role = fields.string("role", required=True)
    if role == "function" or fields.given("function_call"):
        raise ApiError.unsupported(f"{where}.role", "Function calling (the deprecated 'function' role)")
    if role not in ROLES:
        raise ApiError.invalid(f"Invalid value for '{where}.role': '{role}' is not one of system, developer, user, "
                               "assistant, tool.", f"{where}.role", "invalid_value")
    if role == "tool":
        return Message("tool", (tool_result(fields, where),))
    calls = tool_calls(fields, where) if role == "assistant" else ()
    if not fields.given("content") and not calls:
        raise ApiError.invalid(f"Missing required parameter: '{where}.content'.", f"{where}.content",
                               "missing_required_parameter")
    reasoning = fields.string("reasoning_content") if role == "assistant" else None
    thought = (Reasoning(reasoning),) if reasoning else ()
    return Message(ROLES[role], thought + content_parts(fields.raw("content") or "", f"{where}.content") + calls)


def refuse_attachments(messages: list[Message]) -> None:
    """No model Cabin runs reads files sent as bytes: say so (400) instead of answering without them. Images are
    read and checked here, and refused later if the model reads text only (engine/server/image_requests.py)."""
    for index, message in enumerate(messages):
        for part in message.parts:
            if isinstance(part, File):
                param = f"messages[{index}].content"
                raise ApiError.invalid(f"File input is not supported: the loaded model reads text only "
                                       f"({param} holds a file).", param, "unsupported_parameter")


def chat_messages(fields: Fields) -> list[Message]:
    messages = [chat_message(raw, i) for i, raw in enumerate(fields.items("messages"))]
    refuse_attachments(messages)
    return checked_images(messages, "messages[{index}].content")
