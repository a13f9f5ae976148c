"""API request bodies read into typed messages (OpenAI and Ollama), and what is refused with a 400."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import pytest

from engine.messages import Image, Message, Reasoning, Text, ToolCall, ToolResult, system, user
from engine.server import ollama_requests, openai_requests
from engine.server.errors import ApiError
from tests.vision_factory import png_bytes


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


def test_an_openai_image_that_is_no_picture_is_refused_naming_its_message() -> None:
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AA=="}}
    error = refusal(openai_messages, {"role": "user", "content": "hi"},
                    {"role": "user", "content": [{"type": "text", "text": "What is it?"}, image]})
    assert (error.status, error.param, error.code) == (400, "messages[1].content", "invalid_image")
    assert "not an image Cabin can read" in error.message


def test_an_openai_image_on_the_network_is_refused_not_fetched() -> None:
    image = {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}
    error = refusal(openai_messages, {"role": "user", "content": [image]})
    assert (error.status, error.code) == (400, "invalid_image")
    assert "not fetched" in error.message


def test_an_openai_image_data_url_is_read_with_its_digest(tmp_path: Path) -> None:
    data = png_bytes((10, 200, 10))
    url = "data:image/png;base64," + base64.b64encode(data).decode()
    [message] = openai_messages({"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]})
    assert message.parts == (Image(url=url, sha256=hashlib.sha256(data).hexdigest(), media_type="image/png"),)


def test_an_openai_image_file_url_is_read_from_the_local_disk(tmp_path: Path) -> None:
    picture = tmp_path / "green.png"
    picture.write_bytes(png_bytes((10, 200, 10)))
    [message] = openai_messages({"role": "user", "content": [{"type": "image_url",
                                                               "image_url": {"url": picture.as_uri()}}]})
    assert message.parts[0].sha256 == hashlib.sha256(picture.read_bytes()).hexdigest()


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


def test_ollama_images_that_are_not_base64_are_refused_naming_the_message() -> None:
    error = refusal(ollama_messages, {"role": "user", "content": "What is it?", "images": ["not base64!"]})
    assert (error.status, error.param) == (400, "messages[0].images") and "base64" in error.message


def test_ollama_images_are_read_into_image_parts_after_the_text() -> None:
    data = base64.b64encode(png_bytes((10, 10, 200))).decode()
    [message] = ollama_messages({"role": "user", "content": "What is it?", "images": [data]})
    assert message.parts[0] == Text("What is it?") and message.parts[1].data == data
    assert message.parts[1].media_type == "image/png"


def test_ollama_generate_reads_system_and_prompt_into_messages() -> None:
    parsed = ollama_requests.parse_generate({"model": "m", "prompt": "Hi", "system": "Be brief."}, 16)
    assert parsed.messages == [system("Be brief."), user("Hi")]
