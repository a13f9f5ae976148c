"""Structured output through the API with the real `openai` and `ollama` clients, on a random tiny model:
only the grammar can make its answers parse and fit the schema."""

from __future__ import annotations

import json

import jsonschema
import ollama
import openai
import pytest

from tests.conftest import LiveServer
from tests.test_structured_output import PERSON

MODEL = "tiny-llama"
HELLO = [{"role": "user", "content": "Hello there"}]
DESCRIBE = [{"role": "user", "content": "Describe a person."}]
PERSON_FORMAT = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}


@pytest.fixture
def client(api_server: LiveServer) -> openai.OpenAI:
    return api_server.openai()


@pytest.fixture
def ollama_client(api_server: LiveServer) -> ollama.Client:
    return api_server.ollama()


def test_json_mode_answers_a_json_object(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, temperature=0, max_tokens=200,
                                           response_format={"type": "json_object"})
    assert reply.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(reply.choices[0].message.content), dict)


@pytest.mark.parametrize("seed", [1, 2])
def test_a_strict_json_schema_is_filled_validly(client: openai.OpenAI, seed: int) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=DESCRIBE, temperature=1.0, seed=seed, max_tokens=300,
                                           response_format=PERSON_FORMAT)
    assert reply.choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(reply.choices[0].message.content), PERSON)


def test_a_streamed_json_schema_answer_is_valid_once_joined(client: openai.OpenAI) -> None:
    stream = client.chat.completions.create(model=MODEL, messages=DESCRIBE, temperature=1.0, seed=1, max_tokens=300,
                                            response_format=PERSON_FORMAT, stream=True)
    chunks = list(stream)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert chunks[-1].choices[0].finish_reason == "stop"
    jsonschema.validate(json.loads(text), PERSON)


def test_a_json_answer_cut_short_reports_length(client: openai.OpenAI) -> None:
    reply = client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=8, response_format=PERSON_FORMAT)
    assert reply.choices[0].finish_reason == "length"


@pytest.mark.parametrize(
    ("response_format", "param"),
    [
        ({"type": "xml"}, "response_format.type"),
        ({"type": "json_schema", "json_schema": {"schema": PERSON}}, "response_format.json_schema.name"),
        ({"type": "json_schema", "json_schema": {"name": "bad", "schema": {"$ref": "#/missing"}}},
         "response_format.json_schema.schema"),
    ],
)
def test_a_bad_response_format_is_a_400_naming_it(client: openai.OpenAI, response_format: dict, param: str) -> None:
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(model=MODEL, messages=HELLO, response_format=response_format)
    assert caught.value.body["param"] == param


def test_ollama_format_json_answers_json(ollama_client: ollama.Client) -> None:
    reply = ollama_client.chat(model=MODEL, messages=HELLO, format="json",
                               options={"temperature": 0, "num_predict": 200, "repeat_penalty": 1.0})
    assert reply.done_reason == "stop"
    assert isinstance(json.loads(reply.message.content), dict)


@pytest.mark.parametrize("stream", [False, True])
def test_ollama_format_schema_is_filled_validly(ollama_client: ollama.Client, stream: bool) -> None:
    options = {"temperature": 1.0, "seed": 1, "num_predict": 300}
    if stream:
        parts = list(ollama_client.chat(model=MODEL, messages=DESCRIBE, format=PERSON, options=options, stream=True))
        text, reason = "".join(part.message.content for part in parts), parts[-1].done_reason
    else:
        reply = ollama_client.chat(model=MODEL, messages=DESCRIBE, format=PERSON, options=options)
        text, reason = reply.message.content, reply.done_reason
    assert reason == "stop"
    jsonschema.validate(json.loads(text), PERSON)


def test_ollama_generate_takes_a_format_too(ollama_client: ollama.Client) -> None:
    reply = ollama_client.generate(model=MODEL, prompt="Describe a person.", format=PERSON,
                                   options={"temperature": 1.0, "seed": 2, "num_predict": 300})
    jsonschema.validate(json.loads(reply.response), PERSON)


def test_ollama_refuses_a_bad_format_in_its_error_shape(ollama_client: ollama.Client) -> None:
    with pytest.raises(ollama.ResponseError) as caught:
        ollama_client.chat(model=MODEL, messages=HELLO, format={"$ref": "#/missing"})
    assert caught.value.status_code == 400 and "format" in caught.value.error
