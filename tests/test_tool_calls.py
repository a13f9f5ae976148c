"""Reading tool calls out of an answer, as it streams, with mlx_lm's parsers; and a model's tool format."""

from __future__ import annotations

import json
from pathlib import Path

from mlx_lm.tool_parsers import json_tools, mistral

from engine.generation import Engine, SamplingSettings
from engine.messages import ToolCall, user
from engine.tools.forced import forced_call_grammar
from engine.tools.format import ToolFormat
from engine.tools.reader import ToolCallReader

HERMES = ToolFormat("json_tools", "<tool_call>", "</tool_call>", json_tools.parse_tool_call, "", "")
MISTRAL = ToolFormat("mistral", "[TOOL_CALLS]", "", mistral.parse_tool_call, "", "")
CALL = '<tool_call>\n{"name": "f", "arguments": {"x": 1}}\n</tool_call>'


def fed_one_character_at_a_time(reader: ToolCallReader, text: str) -> list:
    pieces = [piece for character in text for piece in reader.feed(character)]
    return pieces + reader.finish()


def test_text_around_a_call_streams_and_the_call_comes_whole() -> None:
    pieces = fed_one_character_at_a_time(ToolCallReader(HERMES, []), f"Hi {CALL} bye")
    calls = [piece for piece in pieces if isinstance(piece, ToolCall)]
    assert "".join(piece for piece in pieces if isinstance(piece, str)) == "Hi  bye"
    assert [(call.name, call.arguments) for call in calls] == [("f", '{"x": 1}')]
    assert pieces.index(calls[0]) == 3


def test_text_that_only_looks_like_the_start_of_a_call_is_passed_on_at_the_end() -> None:
    assert "".join(fed_one_character_at_a_time(ToolCallReader(HERMES, []), "a <tool")) == "a <tool"


def test_every_call_gets_its_own_id() -> None:
    _, calls = ToolCallReader(HERMES, []).split(CALL + CALL)
    assert len(calls) == 2 and calls[0].id != calls[1].id


def test_a_call_cut_short_stays_text() -> None:
    assert ToolCallReader(HERMES, []).split('<tool_call>\n{"name": "f", "argu') == ('<tool_call>\n{"name": "f", "argu', [])


def test_a_format_without_an_end_marker_reads_its_calls_at_the_end() -> None:
    text, calls = ToolCallReader(MISTRAL, []).split('Sure. [TOOL_CALLS][{"name": "f", "arguments": {"q": "z"}}]')
    assert text == "Sure. " and [(c.name, c.arguments) for c in calls] == [("f", '{"q": "z"}')]


def test_a_model_with_a_tool_template_has_a_tool_format_and_chatml_has_none(
    engine: Engine, qwen_tools_model: Path, llama_model: Path
) -> None:
    engine.load(qwen_tools_model).result()
    assert engine.tool_format is not None and engine.tool_format.family == "json_tools"
    engine.load(llama_model).result()
    assert engine.tool_format is None


def test_a_forced_mistral_call_from_a_random_model_parses_with_mistrals_parser(llama_engine: Engine) -> None:
    form = ToolFormat("mistral", "[TOOL_CALLS]", "", mistral.parse_tool_call, '"[TOOL_CALLS]"', '""')
    functions = [{"name": "lookup", "parameters": {"type": "object", "properties": {"n": {"type": "integer",
                                                                                      "maximum": 99}},
                                                   "required": ["n"], "additionalProperties": False}}]
    settings = SamplingSettings(temperature=1.0, seed=4, max_tokens=100, grammar=forced_call_grammar(form, functions))
    finished = llama_engine.chat([user("Look it up.")], settings, None).result()
    assert finished.finish_reason == "stop"
    text, calls = ToolCallReader(form, []).split(finished.text)
    assert text == "" and calls[0].name == "lookup" and 0 <= json.loads(calls[0].arguments)["n"] <= 99
