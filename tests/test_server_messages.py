"""API request bodies read into typed messages (OpenAI and Ollama), and what is refused with a 400."""

from __future__ import annotations

from typing import Any

import pytest

from engine.messages import Message, Reasoning, Text, ToolCall, ToolResult, system, user
from engine.server import ollama_requests, openai_requests
from engine.server.errors import ApiError


def openai_messages(*messages: dict[str, Any]) -> list[Message]:
    return openai_requests.parse_chat({"model": "m", "messages": list(messages)}, 16).messages


def ollama_messages(*messages: dict[str, Any]) -> list[Message]:
    return ollama_requests.parse_chat({"model": "m", "messages": list(messages)}, 16).messages


def refusal(parse: Any, *args: Any) -> ApiError:
    with pytest.raises(ApiError) as caught:
        parse(*args)
    return caught.value


def test_openai_strings_and_text_arrays_become_text_parts() -> None:
    messages = openai_messages(
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]},
    )
    assert messages == [system("Be brief."), Message("user", (Text("Hello "), Text("there")))]


def test_openai_assistant_tool_calls_and_tool_results_are_typed_parts() -> None:
    call = {"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": '{"city": "Oslo"}'}}
    messages = openai_messages(
        {"role": "user", "content": "Weather in Oslo?"},
        {"role": "assistant", "content": None, "tool_calls": [call]},
        {"role": "tool", "tool_call_id": "call_1", "content": "rain"},
    )
    assert messages[1] == Message("assistant", (ToolCall("call_1", "weather", '{"city": "Oslo"}'),))
    assert messages[2] == Message("tool", (ToolResult("call_1", "rain"),))


def test_openai_reasoning_content_is_kept_as_reasoning() -> None:
    [answer] = openai_messages({"role": "assistant", "content": "Paris.", "reasoning_content": "The capital..."})
    assert answer.parts == (Reasoning("The capital..."), Text("Paris."))


def test_a_tool_message_needs_the_id_of_its_call() -> None:
    error = refusal(openai_messages, {"role": "tool", "content": "rain"})
    assert (error.status, error.param) == (400, "messages[0].tool_call_id")


def test_an_openai_image_part_is_read_then_refused_for_a_text_only_model() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    error = refusal(openai_messages, {"role": "user", "content": "hi"},
                    {"role": "user", "content": [{"type": "text", "text": "What is it?"}, image]})
    assert (error.status, error.param, error.code) == (400, "messages[1].content", "unsupported_parameter")
    assert "Image input" in error.message and "reads text only" in error.message


def test_an_openai_content_part_of_an_unknown_type_is_refused_naming_it() -> None:
    error = refusal(openai_messages, {"role": "user", "content": [{"type": "input_audio", "input_audio": {}}]})
    assert error.param == "messages[0].content[0]" and "input_audio" in error.message


def test_ollama_messages_with_thinking_tool_calls_and_tool_results_are_typed_parts() -> None:
    messages = ollama_messages(
        {"role": "assistant", "content": "", "thinking": "Look it up.",
         "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "Oslo"}}}]},
        {"role": "tool", "content": "rain", "tool_name": "weather"},
    )
    assert messages == [
        Message("assistant", (Reasoning("Look it up."), ToolCall("", "weather", '{"city": "Oslo"}'))),
        Message("tool", (ToolResult("", "rain", "weather"),)),
    ]


def test_ollama_images_are_refused_for_a_text_only_model() -> None:
    error = refusal(ollama_messages, {"role": "user", "content": "What is it?", "images": ["iVBORw0KGgo="]})
    assert error.status == 400 and "Image input" in error.message


def test_ollama_generate_reads_system_and_prompt_into_messages() -> None:
    parsed = ollama_requests.parse_generate({"model": "m", "prompt": "Hi", "system": "Be brief."}, 16)
    assert parsed.messages == [system("Be brief."), user("Hi")]
