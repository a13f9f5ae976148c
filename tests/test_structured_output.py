"""Structured output in the engine: a grammar masks sampling, so even a random model writes valid JSON."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from engine.generation import Engine, SamplingSettings
from engine.messages import user
from engine.structured.grammar import GrammarError, json_object_grammar, json_schema_grammar, lark_grammar
from tests.model_factory import ModelSpec, build_model

PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "maxLength": 8},
        "age": {"type": "integer", "minimum": 0, "maximum": 120},
        "colour": {"enum": ["red", "green", "blue"]},
        "pets": {
            "type": "array",
            "maxItems": 2,
            "items": {
                "type": "object",
                "properties": {"kind": {"enum": ["cat", "dog"]}, "legs": {"type": "integer", "maximum": 4}},
                "required": ["kind", "legs"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["name", "age", "colour", "pets"],
    "additionalProperties": False,
}


def answer(engine: Engine, settings: SamplingSettings, question: str = "Describe a person.") -> tuple[str, str]:
    finished = engine.chat([user(question)], settings, None).result()
    return finished.text, finished.finish_reason


def test_a_random_model_answers_a_json_object_under_json_mode(llama_engine: Engine) -> None:
    settings = SamplingSettings(temperature=0, max_tokens=200, grammar=json_object_grammar())
    text, reason = answer(llama_engine, settings, "Hello there")
    assert reason == "stop"
    assert isinstance(json.loads(text), dict)


def test_without_the_grammar_the_same_model_writes_no_json(llama_engine: Engine) -> None:
    text, _ = answer(llama_engine, SamplingSettings(temperature=0, max_tokens=200), "Hello there")
    with pytest.raises(ValueError):
        json.loads(text)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_random_model_fills_a_schema_with_enums_and_nested_arrays(llama_engine: Engine, seed: int) -> None:
    grammar = json_schema_grammar(PERSON, "person")
    text, reason = answer(llama_engine, SamplingSettings(temperature=1.0, seed=seed, max_tokens=300, grammar=grammar))
    assert reason == "stop"
    jsonschema.validate(json.loads(text), PERSON)


def test_an_answer_cut_by_max_tokens_ends_as_length_not_as_a_finished_answer(llama_engine: Engine) -> None:
    endless = json_schema_grammar({"type": "object", "properties": {"story": {"type": "string"}},
                                   "required": ["story"]}, "story")
    text, reason = answer(llama_engine, SamplingSettings(temperature=0, max_tokens=20, grammar=endless))
    assert reason == "length"
    assert text.startswith('{"story": "')
    with pytest.raises(ValueError):
        json.loads(text)


def test_end_of_sequence_waits_until_the_grammar_accepts(engine: Engine, eos_model: Path) -> None:
    engine.load(eos_model).result()
    assert answer(engine, SamplingSettings(temperature=0, max_tokens=50), "Hello") == ("", "stop")
    flag = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
            "additionalProperties": False}
    grammar = json_schema_grammar(flag, "flag")
    text, reason = answer(engine, SamplingSettings(temperature=0, max_tokens=50, grammar=grammar), "Hello")
    assert reason == "stop" and json.loads(text) in ({"ok": True}, {"ok": False})


def test_a_lark_grammar_constrains_to_its_language(llama_engine: Engine) -> None:
    grammar = lark_grammar('start: "yes" | "no"', "yes or no")
    text, reason = answer(llama_engine, SamplingSettings(temperature=1.0, seed=5, max_tokens=20, grammar=grammar))
    assert (text, reason) in (("yes", "stop"), ("no", "stop"))


def test_a_schema_the_library_cannot_compile_is_refused_when_made() -> None:
    with pytest.raises(GrammarError, match="person"):
        json_schema_grammar({"type": "object", "properties": {"a": {"$ref": "#/nowhere"}}}, "person")


def test_after_a_prompt_that_opens_thinking_the_constrained_json_is_the_answer(engine: Engine, tmp_path: Path) -> None:
    from tests.reasoning_models import FAMILIES, TEMPLATES

    template_file, tags = FAMILIES["deepseek_r1"]
    spec = ModelSpec(extra_tokens=tags, chat_template=(TEMPLATES / template_file).read_text())
    engine.load(build_model(tmp_path / "tiny-r1", spec)).result()
    flag = {"type": "object", "properties": {"ok": {"type": "boolean"}}, "required": ["ok"],
            "additionalProperties": False}
    settings = SamplingSettings(temperature=0, max_tokens=50, grammar=json_schema_grammar(flag, "flag"))
    finished = engine.chat([user("Hello")], settings, None).result()
    assert finished.reasoning == "" and json.loads(finished.text) in ({"ok": True}, {"ok": False})
