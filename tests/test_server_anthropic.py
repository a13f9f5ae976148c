"""Anthropic's Messages API (POST /v1/messages) through the official `anthropic` client against a live server:
plain and streamed answers, thinking blocks, tool use round trips, and Anthropic-shaped errors."""

from __future__ import annotations

import json
from collections.abc import Callable

import anthropic
import jsonschema
import pytest

from tests.conftest import LiveServer
from tests.scripted_backend import ScriptedBackend

LLAMA = "tiny-llama"
TOOLS_MODEL = "tiny-qwen-tools"
GREEDY = {"temperature": 0}
"""Sampling settings travel in extra_body: the anthropic client no longer names them."""
HELLO = [{"role": "user", "content": "Hello there"}]
WEATHER = {"name": "get_weather", "description": "The weather in a city.", "input_schema": {
    "type": "object", "properties": {"city": {"type": "string", "maxLength": 12}}, "required": ["city"]}}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
POINT = {"type": "object", "properties": {"x": {"type": "integer", "minimum": 0, "maximum": 99},
                                          "label": {"type": "string", "maxLength": 8}},
         "required": ["x", "label"], "additionalProperties": False}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]


def client_of(server: LiveServer, api_key: str = "unused") -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=server.url, api_key=api_key, max_retries=0)


def chat_answer(server: LiveServer, messages: list[dict], max_tokens: int) -> str:
    client = server.openai()
    reply = client.chat.completions.create(model=LLAMA, messages=messages, max_tokens=max_tokens, temperature=0)
    return reply.choices[0].message.content


def test_a_message_answers_what_chat_completions_answers(api_server: LiveServer) -> None:
    message = client_of(api_server).messages.create(model=LLAMA, max_tokens=12, messages=HELLO, extra_body=GREEDY)
    assert (message.role, message.stop_reason, message.usage.output_tokens) == ("assistant", "max_tokens", 12)
    assert message.content[0].text == chat_answer(api_server, HELLO, 12)


def test_the_system_prompt_comes_first(api_server: LiveServer) -> None:
    message = client_of(api_server).messages.create(model=LLAMA, max_tokens=12, messages=HELLO, extra_body=GREEDY,
                                                    system=[{"type": "text", "text": "Be terse."}])
    expected = chat_answer(api_server, [{"role": "system", "content": "Be terse."}, *HELLO], 12)
    assert message.content[0].text == expected


def test_a_stream_adds_up_to_the_same_message(api_server: LiveServer) -> None:
    client = client_of(api_server)
    with client.messages.stream(model=LLAMA, max_tokens=12, messages=HELLO, extra_body=GREEDY) as stream:
        streamed = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert streamed == final.content[0].text == chat_answer(api_server, HELLO, 12)
    assert final.stop_reason == "max_tokens"


def test_a_stream_sends_anthropics_events_in_order(api_server: LiveServer) -> None:
    events = list(client_of(api_server).messages.create(model=LLAMA, max_tokens=4, messages=HELLO, stream=True))
    kinds = [event.type for event in events]
    assert kinds == ["message_start", "content_block_start", *["content_block_delta"] * (len(kinds) - 5),
                     "content_block_stop", "message_delta", "message_stop"]


def test_thinking_is_a_thinking_block_before_the_text(thinking_server: LiveServer) -> None:
    message = client_of(thinking_server).messages.create(model="scripted-thinker", max_tokens=100,
                                                         messages=[{"role": "user", "content": "Hi"}])
    assert [(block.type, getattr(block, "thinking", None) or getattr(block, "text", None))
            for block in message.content] == [("thinking", "A greeting."), ("text", "Hello!")]


def test_streamed_thinking_arrives_as_thinking_deltas(thinking_server: LiveServer) -> None:
    with client_of(thinking_server).messages.stream(model="scripted-thinker", max_tokens=100,
                                                    messages=[{"role": "user", "content": "Hi"}]) as stream:
        events = list(stream)
    thought = "".join(e.delta.thinking for e in events if e.type == "content_block_delta"
                      and e.delta.type == "thinking_delta")
    assert (thought, stream.get_final_message().content[1].text) == ("A greeting.", "Hello!")


def test_a_call_in_the_answer_is_a_tool_use_block(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [f"Let me look. {CALL}"]
    message = client_of(server).messages.create(model=TOOLS_MODEL, max_tokens=100, messages=ASK, tools=[WEATHER])
    text, call = message.content
    assert (text.text, call.type, call.name, call.input) == ("Let me look. ", "tool_use", "get_weather",
                                                             {"city": "Paris"})
    assert message.stop_reason == "tool_use"


def test_a_tool_result_is_answered(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL, "It is 21 degrees in Paris."]
    client = client_of(server)
    first = client.messages.create(model=TOOLS_MODEL, max_tokens=100, messages=ASK, tools=[WEATHER])
    (call,) = [block for block in first.content if block.type == "tool_use"]
    history = [*ASK, {"role": "assistant", "content": [block.model_dump() for block in first.content]},
               {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                             "content": '{"temperature": 21}'}]}]
    second = client.messages.create(model=TOOLS_MODEL, max_tokens=100, messages=history, tools=[WEATHER])
    assert (second.content[0].text, second.stop_reason) == ("It is 21 degrees in Paris.", "end_turn")
    assert '<tool_response>\n{"temperature": 21}\n</tool_response>' in backend.prompts[1]


def test_a_streamed_call_arrives_as_input_json_deltas(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL]
    with client_of(server).messages.stream(model=TOOLS_MODEL, max_tokens=100, messages=ASK, tools=[WEATHER]) as stream:
        events = list(stream)
        final = stream.get_final_message()
    partial = "".join(e.delta.partial_json for e in events if e.type == "content_block_delta"
                      and e.delta.type == "input_json_delta")
    assert json.loads(partial) == {"city": "Paris"} and final.content[-1].input == {"city": "Paris"}
    assert final.stop_reason == "tool_use"


def test_a_forced_tool_from_a_random_model_has_valid_input(tools_server: LiveServer) -> None:
    message = client_of(tools_server).messages.create(
        model=TOOLS_MODEL, max_tokens=200, messages=ASK, tools=[WEATHER], extra_body=GREEDY,
        tool_choice={"type": "tool", "name": "get_weather"})
    (call,) = [block for block in message.content if block.type == "tool_use"]
    assert call.name == "get_weather" and isinstance(call.input["city"], str)


def test_an_output_config_format_is_filled_validly_by_a_random_model(api_server: LiveServer) -> None:
    message = client_of(api_server).messages.create(
        model=LLAMA, max_tokens=200, messages=HELLO, extra_body=GREEDY,
        output_config={"format": {"type": "json_schema", "schema": POINT}})
    jsonschema.validate(json.loads(message.content[0].text), POINT)


def test_prompt_tokens_the_cache_held_are_counted_apart(api_server: LiveServer) -> None:
    client = client_of(api_server)
    first = client.messages.create(model=LLAMA, max_tokens=2, messages=HELLO, extra_body=GREEDY)
    again = client.messages.create(model=LLAMA, max_tokens=2, messages=HELLO, extra_body=GREEDY)
    assert again.usage.cache_read_input_tokens > 0
    assert again.usage.input_tokens + again.usage.cache_read_input_tokens == first.usage.input_tokens + (
        first.usage.cache_read_input_tokens)


def test_a_missing_max_tokens_is_an_anthropic_invalid_request_error(api_server: LiveServer) -> None:
    with pytest.raises(anthropic.BadRequestError) as refused:
        client_of(api_server).post("/v1/messages", cast_to=object, body={"model": LLAMA, "messages": HELLO})
    assert refused.value.body == {"type": "error", "error": {"type": "invalid_request_error",
                                                             "message": "max_tokens: Field required"}}


def test_an_unknown_model_is_an_anthropic_not_found_error(api_server: LiveServer) -> None:
    with pytest.raises(anthropic.NotFoundError) as refused:
        client_of(api_server).messages.create(model="nope", max_tokens=4, messages=HELLO)
    assert refused.value.body["error"]["type"] == "not_found_error"


def test_an_image_block_is_refused_by_name(api_server: LiveServer) -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    with pytest.raises(anthropic.BadRequestError) as refused:
        client_of(api_server).messages.create(model=LLAMA, max_tokens=4,
                                              messages=[{"role": "user", "content": [image]}])
    assert "image" in refused.value.body["error"]["message"]


def test_the_api_key_is_taken_from_x_api_key(serve: Callable[..., LiveServer]) -> None:
    server = serve(api_key="secret")
    assert client_of(server, api_key="secret").messages.create(model=LLAMA, max_tokens=2, messages=HELLO).content


def test_a_wrong_x_api_key_is_an_anthropic_authentication_error(serve: Callable[..., LiveServer]) -> None:
    server = serve(api_key="secret")
    with pytest.raises(anthropic.AuthenticationError) as refused:
        client_of(server, api_key="wrong").messages.create(model=LLAMA, max_tokens=2, messages=HELLO)
    assert refused.value.body["error"]["type"] == "authentication_error"


def test_count_tokens_counts_the_prompt_a_message_would_read(
    scripted_tools: tuple[LiveServer, ScriptedBackend],
) -> None:
    server, backend = scripted_tools
    backend.replies = ["Sunny."]
    client = client_of(server)
    counted = client.messages.count_tokens(model=TOOLS_MODEL, messages=ASK, tools=[WEATHER], system="Be brief.")
    answered = client.messages.create(model=TOOLS_MODEL, max_tokens=20, messages=ASK, tools=[WEATHER],
                                      system="Be brief.")
    assert counted.input_tokens == answered.usage.input_tokens + answered.usage.cache_read_input_tokens
