"""OpenAI's Responses API (POST /v1/responses) through the official `openai` client against a live server:
plain and streamed answers, reasoning items, structured output, function tools, and its errors."""

from __future__ import annotations

import json

import jsonschema
import openai
import pytest

from tests.conftest import LiveServer
from tests.scripted_backend import ScriptedBackend

LLAMA = "tiny-llama"
TOOLS_MODEL = "tiny-qwen-tools"
WEATHER = {"type": "function", "name": "get_weather", "description": "The weather in a city.", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
CALL = '<tool_call>\n{"name": "get_weather", "arguments": {"city": "Paris"}}\n</tool_call>'
ASK = "What is the weather in Paris?"
POINT = {"type": "object", "properties": {"x": {"type": "integer"}, "label": {"type": "string", "maxLength": 8}},
         "required": ["x", "label"], "additionalProperties": False}


def client_of(server: LiveServer) -> openai.OpenAI:
    return server.openai()


def test_a_response_answers_what_chat_completions_answers(api_server: LiveServer) -> None:
    client = client_of(api_server)
    response = client.responses.create(model=LLAMA, input="Hello there", max_output_tokens=16, temperature=0)
    chat = client.chat.completions.create(model=LLAMA, messages=[{"role": "user", "content": "Hello there"}],
                                          max_tokens=16, temperature=0)
    assert response.output_text == chat.choices[0].message.content


def test_a_response_cut_by_max_output_tokens_is_incomplete(api_server: LiveServer) -> None:
    response = client_of(api_server).responses.create(model=LLAMA, input="Hello there", max_output_tokens=16)
    assert (response.status, response.incomplete_details.reason) == ("incomplete", "max_output_tokens")
    assert response.output[-1].status == "incomplete"
    assert response.usage.output_tokens == 16


def test_instructions_come_first_as_the_system_message(api_server: LiveServer) -> None:
    client = client_of(api_server)
    with_input = client.responses.create(model=LLAMA, instructions="Be terse.", max_output_tokens=16, temperature=0,
                                         input=[{"role": "user", "content": [{"type": "input_text",
                                                                               "text": "Hello there"}]}])
    chat = client.chat.completions.create(model=LLAMA, max_tokens=16, temperature=0, messages=[
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hello there"}])
    assert with_input.output_text == chat.choices[0].message.content


def test_a_streamed_response_sends_openais_events_in_order(api_server: LiveServer) -> None:
    events = list(client_of(api_server).responses.create(model=LLAMA, input="Hello there", max_output_tokens=16,
                                                         temperature=0, stream=True))
    kinds = [event.type for event in events]
    assert kinds[:4] == ["response.created", "response.in_progress", "response.output_item.added",
                         "response.content_part.added"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.incomplete"]
    assert [event.sequence_number for event in events] == list(range(len(events)))


def test_streamed_text_deltas_add_up_to_the_final_response(api_server: LiveServer) -> None:
    events = list(client_of(api_server).responses.create(model=LLAMA, input="Hello there", max_output_tokens=16,
                                                         temperature=0, stream=True))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas and deltas == events[-1].response.output_text


def test_the_thinking_is_a_reasoning_item_before_the_message(thinking_server: LiveServer) -> None:
    response = client_of(thinking_server).responses.create(model="scripted-thinker", input="Hi")
    reasoning, message = response.output
    assert (reasoning.type, reasoning.content[0].text) == ("reasoning", "A greeting.")
    assert (message.type, response.output_text) == ("message", "Hello!")


def test_streamed_thinking_arrives_as_reasoning_text_deltas(thinking_server: LiveServer) -> None:
    events = list(client_of(thinking_server).responses.create(model="scripted-thinker", input="Hi", stream=True))
    thought = "".join(event.delta for event in events if event.type == "response.reasoning_text.delta")
    text = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert (thought, text) == ("A greeting.", "Hello!")


@pytest.mark.parametrize("seed", [1, 2])
def test_a_json_schema_text_format_is_filled_validly_by_a_random_model(api_server: LiveServer, seed: int) -> None:
    response = client_of(api_server).responses.create(
        model=LLAMA, input="A point, please.", temperature=1.0, max_output_tokens=200,
        text={"format": {"type": "json_schema", "name": "point", "schema": POINT, "strict": True}})
    jsonschema.validate(json.loads(response.output_text), POINT)


def test_a_call_in_the_answer_is_a_function_call_item(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL]
    response = client_of(server).responses.create(model=TOOLS_MODEL, input=ASK, tools=[WEATHER])
    (call,) = [item for item in response.output if item.type == "function_call"]
    assert (call.name, json.loads(call.arguments)) == ("get_weather", {"city": "Paris"})
    assert call.call_id


def test_a_function_call_output_is_answered(scripted_tools: tuple[LiveServer, ScriptedBackend]) -> None:
    server, backend = scripted_tools
    backend.replies = [CALL, "It is 21 degrees in Paris."]
    client = client_of(server)
    first = client.responses.create(model=TOOLS_MODEL, input=ASK, tools=[WEATHER])
    (call,) = [item for item in first.output if item.type == "function_call"]
    history = [{"role": "user", "content": ASK}, call.model_dump(exclude_none=True),
               {"type": "function_call_output", "call_id": call.call_id, "output": '{"temperature": 21}'}]
    second = client.responses.create(model=TOOLS_MODEL, input=history, tools=[WEATHER])
    assert second.output_text == "It is 21 degrees in Paris."
    assert '<tool_response>\n{"temperature": 21}\n</tool_response>' in backend.prompts[1]


def test_a_streamed_call_arrives_as_function_call_argument_events(
    scripted_tools: tuple[LiveServer, ScriptedBackend],
) -> None:
    server, backend = scripted_tools
    backend.replies = [f"Checking. {CALL}"]
    events = list(client_of(server).responses.create(model=TOOLS_MODEL, input=ASK, tools=[WEATHER], stream=True))
    (done,) = [event for event in events if event.type == "response.function_call_arguments.done"]
    assert json.loads(done.arguments) == {"city": "Paris"}
    assert [item.type for item in events[-1].response.output] == ["message", "function_call"]


def test_previous_response_id_is_a_400_saying_nothing_is_kept(api_server: LiveServer) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client_of(api_server).responses.create(model=LLAMA, input="Hi", previous_response_id="resp_1")
    assert refused.value.body["param"] == "previous_response_id" and "keeps no responses" in refused.value.message


def test_an_unknown_model_is_an_openai_shaped_404(api_server: LiveServer) -> None:
    with pytest.raises(openai.NotFoundError) as refused:
        client_of(api_server).responses.create(model="nope", input="Hi")
    assert refused.value.body["code"] == "model_not_found"


def test_the_clients_stream_helper_accumulates_the_events_into_the_response(thinking_server: LiveServer) -> None:
    with client_of(thinking_server).responses.stream(model="scripted-thinker", input="Hi") as stream:
        text = "".join(event.delta for event in stream if event.type == "response.output_text.delta")
        final = stream.get_final_response()
    assert (text, final.output_text, final.output[0].content[0].text) == ("Hello!", "Hello!", "A greeting.")
