"""Tool calling through the API with the real `openai` and `ollama` clients.

Forced calls run on a random tiny model with Qwen2.5's own tool template: only the grammar can make its call
valid. Round trips (call -> tool result -> answer) use scripted answers through the real engine and server.
"""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import ollama
import openai
import pytest

from engine.generation import Engine
from engine.server import ServerConfig
from tests.conftest import LiveServer
from tests.model_factory import CHATML_TEMPLATE, ModelSpec, build_model
from tests.scripted_backend import ScriptedBackend

MODEL = "tiny-qwen-tools"
WEATHER_ARGS = {
    "type": "object",
    "properties": {"city": {"type": "string", "maxLength": 12}, "unit": {"enum": ["celsius", "fahrenheit"]}},
    "required": ["city", "unit"],
    "additionalProperties": False,
}
WEATHER = {"type": "function", "function": {"name": "get_weather", "description": "The weather in a city.",
                                            "parameters": WEATHER_ARGS}}
TIME = {"type": "function", "function": {"name": "get_time", "parameters": {
    "type": "object", "properties": {"zone": {"enum": ["UTC", "CET"]}}, "required": ["zone"]}}}
ASK = [{"role": "user", "content": "What is the weather in Paris?"}]
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}\n</tool_call>'


def client_of(server: LiveServer) -> openai.OpenAI:
    return server.openai()


def test_a_required_call_from_a_random_model_names_an_offered_tool_with_valid_arguments(
    tools_server: LiveServer,
) -> None:
    reply = client_of(tools_server).chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER, TIME], tool_choice="required", temperature=1.0, seed=1,
        max_tokens=200)
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls
    schema = {"get_weather": WEATHER_ARGS, "get_time": TIME["function"]["parameters"]}[call.function.name]
    jsonschema.validate(json.loads(call.function.arguments), schema)


def test_a_named_call_streams_as_openai_tool_call_deltas(tools_server: LiveServer) -> None:
    stream = client_of(tools_server).chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER, TIME], temperature=1.0, seed=2, max_tokens=200, stream=True,
        tool_choice={"type": "function", "function": {"name": "get_weather"}})
    chunks = list(stream)
    deltas = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert deltas[0].id and deltas[0].type == "function" and deltas[0].function.name == "get_weather"
    assert {delta.index for delta in deltas} == {0}
    arguments = "".join(delta.function.arguments or "" for delta in deltas)
    jsonschema.validate(json.loads(arguments), WEATHER_ARGS)
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_forced_call_cut_short_reports_length_and_keeps_the_text(tools_server: LiveServer) -> None:
    reply = client_of(tools_server).chat.completions.create(
        model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="required", max_tokens=5)
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.tool_calls is None and reply.choices[0].message.content


def test_a_call_in_an_answer_is_read_out_and_the_tool_result_answered(
    scripted_tools: tuple[LiveServer, ScriptedBackend],
) -> None:
    server, backend = scripted_tools
    backend.replies = [f"Let me look. {CALL}", "It is 21 degrees in Paris."]
    client = client_of(server)
    first = client.chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER]).choices[0]
    assert first.finish_reason == "tool_calls" and first.message.content == "Let me look. "
    (call,) = first.message.tool_calls
    assert (call.function.name, json.loads(call.function.arguments)) == ("get_weather", {"city": "Paris",
                                                                                         "unit": "celsius"})
    history = [*ASK, first.message.model_dump(exclude_none=True),
               {"role": "tool", "tool_call_id": call.id, "content": '{"temperature": 21}'}]
    second = client.chat.completions.create(model=MODEL, messages=history, tools=[WEATHER]).choices[0]
    assert (second.message.content, second.finish_reason) == ("It is 21 degrees in Paris.", "stop")
    assert '<tool_response>\n{"temperature": 21}\n</tool_response>' in backend.prompts[1]
    assert '"name": "get_weather"' in backend.prompts[0]


def test_a_streamed_call_arrives_whole_after_the_text_before_it(
    scripted_tools: tuple[LiveServer, ScriptedBackend],
) -> None:
    server, backend = scripted_tools
    backend.replies = [f"Checking. {CALL}"]
    chunks = list(client_of(server).chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER], stream=True))
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    calls = [call for chunk in chunks if chunk.choices for call in chunk.choices[0].delta.tool_calls or []]
    assert text == "Checking. "
    assert calls[0].function.name == "get_weather"
    assert json.loads("".join(c.function.arguments for c in calls)) == {"city": "Paris", "unit": "celsius"}
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_tool_choice_none_reads_no_calls(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL]
    reply = client_of(server).chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER], tool_choice="none")
    assert reply.choices[0].message.content == CALL and reply.choices[0].message.tool_calls is None
    assert "get_weather" not in backend.prompts[0]


def test_a_malformed_call_is_passed_on_as_text(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = ["<tool_call>\n{not json}\n</tool_call>"]
    reply = client_of(server).chat.completions.create(model=MODEL, messages=ASK, tools=[WEATHER])
    assert reply.choices[0].finish_reason == "stop"
    assert reply.choices[0].message.content == "<tool_call>\n{not json}\n</tool_call>"


def test_ollama_tools_round_trip(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL, "21 degrees."]
    client = server.ollama()
    first = client.chat(model=MODEL, messages=ASK, tools=[WEATHER])
    (call,) = first.message.tool_calls
    assert (call.function.name, call.function.arguments) == ("get_weather", {"city": "Paris", "unit": "celsius"})
    history = [*ASK, first.message, {"role": "tool", "tool_name": "get_weather", "content": "21"}]
    assert client.chat(model=MODEL, messages=history, tools=[WEATHER]).message.content == "21 degrees."
    assert "<tool_response>\n21\n</tool_response>" in backend.prompts[1]


def test_ollama_streams_a_call_in_its_own_chunk(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL]
    parts = list(server.ollama().chat(model=MODEL, messages=ASK, tools=[WEATHER], stream=True))
    calls = [call for part in parts for call in part.message.tool_calls or []]
    assert [call.function.name for call in calls] == ["get_weather"] and parts[-1].done


def test_tools_for_a_model_without_a_tool_format_are_a_clear_400(api_server: LiveServer) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_of(api_server).chat.completions.create(model="tiny-llama", messages=ASK, tools=[WEATHER])
    assert caught.value.code == "tools_not_supported" and "tiny-llama" in caught.value.body["message"]
    with pytest.raises(ollama.ResponseError) as refused:
        api_server.ollama().chat(model="tiny-llama", messages=ASK, tools=[WEATHER])
    assert refused.value.status_code == 400 and "Tool calling is not supported" in refused.value.error


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tool_choice": "required"}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tools": [WEATHER], "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        ({"tools": [WEATHER], "tool_choice": "required", "response_format": {"type": "json_object"}}, "tool_choice"),
    ],
)
def test_bad_tool_fields_are_a_400_naming_the_field(tools_server: LiveServer, fields: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client_of(tools_server).chat.completions.create(model=MODEL, messages=ASK, **fields)
    assert caught.value.body["param"] == param


CODER_TEMPLATE = (
    "{% if tools %}<|im_start|>system\nCall a tool as <tool_call>\n<function=NAME>\n<parameter=KEY>\nVALUE\n"
    "</parameter>\n</function>\n</tool_call>: {{ tools | tojson }}<|im_end|>\n{% endif %}" + CHATML_TEMPLATE
)


@pytest.fixture(scope="module")
def coder_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny qwen2 whose template writes calls as Qwen3-Coder's XML (mlx_lm's qwen3_coder parser)."""
    return build_model(tmp_path_factory.mktemp("coder") / "tiny-coder", ModelSpec(arch="qwen2", seed=9,
                                                                                   chat_template=CODER_TEMPLATE))


def test_a_forced_call_in_a_format_no_grammar_can_force_is_a_400_but_auto_works(engine: Engine, coder_model: Path
                                                                                  ) -> None:
    engine.load(coder_model).result()
    assert engine.tool_format.family == "qwen3_coder"
    server = LiveServer(engine, ServerConfig(port=0))
    try:
        client = client_of(server)
        with pytest.raises(openai.BadRequestError) as caught:
            client.chat.completions.create(model="tiny-coder", messages=ASK, tools=[WEATHER], tool_choice="required")
        assert caught.value.code == "unsupported_parameter" and "qwen3_coder" in caught.value.body["message"]
        reply = client.chat.completions.create(model="tiny-coder", messages=ASK, tools=[WEATHER], max_tokens=4)
        assert reply.choices[0].finish_reason == "length"
    finally:
        server.close()
