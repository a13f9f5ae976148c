"""Typed messages as a chat template reads them: plain text unchanged, tool calls and results in the shape
Hugging Face templates expect, reasoning only where the template reads it, attachments refused by name."""

from __future__ import annotations

import pytest

from engine.chat_template import UnsupportedContent, plain_prompt, template_messages
from engine.messages import File, Image, Message, Reasoning, Text, ToolCall, ToolResult, assistant, system, user

QWEN3_LIKE = "{% if message.reasoning_content %}<think>{{ message.reasoning_content }}</think>{% endif %}"
CHATML = "{% for message in messages %}<|im_start|>{{ message['role'] }}{% endfor %}"


def test_plain_text_is_role_and_content_exactly_as_before() -> None:
    messages = [system("Be brief."), user("Hello there"), assistant("Hi!"), user("")]
    assert template_messages(messages, CHATML) == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "content": "Hi!"},
        {"role": "user", "content": ""},
    ]


def test_several_text_parts_are_joined() -> None:
    assert template_messages([Message("user", (Text("Hello "), Text("there")))]) == [{"role": "user", "content": "Hello there"}]


def test_tool_calls_become_the_assistants_tool_calls_with_parsed_arguments() -> None:
    call = Message("assistant", (ToolCall("call_1", "weather", '{"city": "Oslo"}'),))
    assert template_messages([call]) == [{
        "role": "assistant", "content": "",
        "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "weather", "arguments": {"city": "Oslo"}}}],
    }]


def test_arguments_that_are_not_a_json_object_are_passed_as_written() -> None:
    [rendered] = template_messages([Message("assistant", (ToolCall("c", "f", "not json"),))])
    assert rendered["tool_calls"][0]["function"]["arguments"] == "not json"


def test_each_tool_result_is_a_tool_message() -> None:
    results = Message("tool", (ToolResult("call_1", "rain", "weather"), ToolResult("call_2", "4 °C")))
    assert template_messages([results]) == [
        {"role": "tool", "tool_call_id": "call_1", "content": "rain", "name": "weather"},
        {"role": "tool", "tool_call_id": "call_2", "content": "4 °C"},
    ]


def test_reasoning_is_kept_for_templates_that_read_it_and_dropped_elsewhere() -> None:
    thought = Message("assistant", (Reasoning("Think."), Text("Paris.")))
    assert template_messages([thought], QWEN3_LIKE) == [{"role": "assistant", "content": "Paris.", "reasoning_content": "Think."}]
    assert template_messages([thought], CHATML) == [{"role": "assistant", "content": "Paris."}]


@pytest.mark.parametrize(("part", "what"), [(Image(url="https://example.com/cat.png"), "an image"), (File("a.pdf"), "a file")])
def test_an_attachment_for_a_text_only_model_is_refused_not_dropped(part: object, what: str) -> None:
    with pytest.raises(UnsupportedContent, match=f"message 2 holds {what}, but this model reads text only"):
        template_messages([system("x"), Message("user", (Text("What is this?"), part))])


def test_a_model_without_a_template_gets_role_lines() -> None:
    assert plain_prompt([system("Be brief."), user("Hi")]) == "System: Be brief.\nUser: Hi\nAssistant:"
