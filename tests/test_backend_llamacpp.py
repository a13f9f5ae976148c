"""The llama.cpp backend: a GGUF file runs as it is, token by token, with the engine's stop, stats, prompt cache
and chat template, and answers what raw llama-cpp-python answers.

Needs llama-cpp-python, which scripts/setup.sh builds (so CI runs these); in a venv made without it they are skipped.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import jsonschema
import openai
import pytest

pytest.importorskip("llama_cpp", reason="llama-cpp-python is not installed (scripts/setup.sh builds it)")

from engine.backends.llamacpp import MISSING, LlamaCppBackend, require_llama_cpp  # noqa: E402
from engine.errors import ModelError  # noqa: E402
from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.generation.events import Token  # noqa: E402
from engine.messages import Message, assistant, system, user  # noqa: E402
from engine.server import ServerConfig  # noqa: E402
from engine.structured.grammar import json_schema_grammar  # noqa: E402
from tests.conftest import LiveServer, stop_after_three_tokens  # noqa: E402

SYSTEM = "You are a helpful AI assistant."
CAPITAL = [system(SYSTEM), user("What is the capital of France?")]
"""With its own system prompt: under the template's default one, llama.cpp's first greedy token is "L" (logit 24.91)
over "The" (24.56) and the answer is French gibberish, raw llama-cpp-python's as much as Cabin's."""
GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


def raw_greedy_ids(gguf: Path, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
    """Greedy ids from llama-cpp-python alone: its own chat formatter, tokenizer and generate loop."""
    from llama_cpp import Llama
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    llama = Llama(model_path=str(gguf), n_ctx=2048, logits_all=False, verbose=False)
    try:
        template = llama.metadata["tokenizer.chat_template"]
        eos = llama.detokenize([llama.token_eos()], special=True).decode()
        bos = llama.detokenize([llama.token_bos()], special=True).decode()
        prompt = Jinja2ChatFormatter(template, eos_token=eos, bos_token=bos)(messages=messages).prompt
        ids = llama.tokenize(prompt.encode(), add_bos=True, special=True)  # BOS only where the vocabulary wants it
        out: list[int] = []
        for token in llama.generate(ids, temp=0.0, repeat_penalty=1.0):
            out.append(token)
            if llama._model.token_eos() == token or len(out) == max_tokens:
                break
        return out
    finally:
        llama.close()


def test_a_gguf_file_is_run_by_the_llamacpp_backend(smollm2_llamacpp: Engine) -> None:
    assert type(smollm2_llamacpp.run_with_backend(lambda backend: backend).result()) is LlamaCppBackend


def test_greedy_answers_the_capital_question(smollm2_llamacpp: Engine) -> None:
    assert "Paris" in smollm2_llamacpp.chat(CAPITAL, GREEDY).result().text


def test_greedy_ids_equal_raw_llama_cpp(smollm2_llamacpp: Engine, smollm2_gguf: Path) -> None:
    finished = smollm2_llamacpp.chat(CAPITAL, GREEDY).result()
    raw = raw_greedy_ids(smollm2_gguf, [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}], 24)
    eos_cut = raw[:-1] if finished.finish_reason == "stop" else raw
    assert list(finished.token_ids) == eos_cut


def test_the_streamed_text_spells_the_answer(smollm2_llamacpp: Engine) -> None:
    generation = smollm2_llamacpp.chat(CAPITAL, GREEDY)
    streamed = "".join(event.text for event in generation if isinstance(event, Token))
    assert streamed == generation.result().text


def test_stop_ends_generation_within_one_token(smollm2_llamacpp: Engine) -> None:
    generation = smollm2_llamacpp.chat([user("Write a long story about a cat.")], SamplingSettings(max_tokens=2000))
    finished, seen, made_at_stop = stop_after_three_tokens(generation)
    assert finished.finish_reason == "cancelled"
    assert finished.stats.generated_tokens <= made_at_stop + 2
    assert finished.text == "".join(t.text for t in seen)


def test_a_stop_string_ends_the_answer_before_it(smollm2_llamacpp: Engine) -> None:
    finished = smollm2_llamacpp.chat(CAPITAL, SamplingSettings(temperature=0.0, max_tokens=24, stop=("Paris",))).result()
    assert finished.finish_reason == "stop"
    assert finished.text.startswith("The capital of France is") and "Paris" not in finished.text


def second_turn(engine: Engine, conversation: str) -> Any:
    first = engine.chat(CAPITAL, GREEDY, conversation).result()
    follow_up: list[Message] = [*CAPITAL, assistant(first.text), user("And of Italy?")]
    return engine.chat(follow_up, GREEDY, conversation).result(), follow_up


def test_a_second_turn_reuses_the_first_from_the_prompt_cache(smollm2_llamacpp: Engine) -> None:
    cached, follow_up = second_turn(smollm2_llamacpp, "chat")
    uncached = smollm2_llamacpp.chat(follow_up, GREEDY, "fresh").result()
    assert cached.stats.cached_tokens > 0
    assert uncached.stats.cached_tokens == 0
    assert cached.token_ids == uncached.token_ids


def test_conversations_taking_turns_keep_their_caches(smollm2_llamacpp: Engine) -> None:
    engine = smollm2_llamacpp
    first = engine.chat(CAPITAL, GREEDY, "a").result()
    engine.chat([user("Name a colour.")], GREEDY, "b").result()
    again = engine.chat(CAPITAL, GREEDY, "a").result()  # restored, then trimmed back to the prompt
    follow_up: list[Message] = [*CAPITAL, assistant(again.text), user("And of Italy?")]
    back_to_a = engine.chat(follow_up, GREEDY, "a").result()
    alone = engine.chat(follow_up, GREEDY, "alone").result()
    assert again.stats.cached_tokens > 0 and back_to_a.stats.cached_tokens > 0
    assert again.token_ids == first.token_ids
    assert back_to_a.token_ids == alone.token_ids


def test_the_same_seed_samples_the_same_answer(smollm2_llamacpp: Engine) -> None:
    settings = SamplingSettings(temperature=1.0, top_p=0.9, min_p=0.05, top_k=40, repetition_penalty=1.1, seed=7,
                                max_tokens=24)  # fmt: skip
    answers = [smollm2_llamacpp.chat(CAPITAL, settings, f"seeded-{i}").result().token_ids for i in range(2)]
    assert answers[0] == answers[1]


def test_cabin_bench_runs_a_gguf_on_llama_cpp(smollm2_llamacpp: Engine) -> None:
    from engine.bench import BenchPlan, start_bench

    result = start_bench(smollm2_llamacpp, BenchPlan(16, 4, 1)).result()
    assert result.device.startswith("llama.cpp")
    assert (result.dtype, result.prompt_tokens, result.generated_tokens) == ("Q4_1", 16, 4)


def test_a_truncated_gguf_is_refused_in_one_line(engine: Engine, smollm2_gguf: Path, tmp_path: Path) -> None:
    truncated = tmp_path / "cut.gguf"
    with smollm2_gguf.open("rb") as source:
        truncated.write_bytes(source.read(smollm2_gguf.stat().st_size // 2))
    with pytest.raises(ModelError, match="truncated") as refused:
        engine.load(truncated).result()
    assert "\n" not in str(refused.value)


def test_an_architecture_llama_cpp_cannot_run_is_refused_in_one_line(engine: Engine, tmp_path: Path) -> None:
    from tests.gguf_factory import GgufSpec, write_gguf

    odd = write_gguf(tmp_path / "odd.gguf", GgufSpec(arch="notanarch"))
    with pytest.raises(ModelError, match="llama.cpp cannot run this 'notanarch' model") as refused:
        engine.load(odd).result()
    assert "unknown model architecture" in str(refused.value)
    assert "\n" not in str(refused.value)


def test_a_gguf_that_wont_fit_is_refused_before_llama_cpp_loads_it(engine: Engine, tmp_path: Path) -> None:
    from tests.gguf_factory import GgufSpec, write_gguf

    huge = write_gguf(tmp_path / "huge-context.gguf", GgufSpec(context_length=10**9))
    with pytest.raises(ModelError, match="won't fit in this machine's memory"):
        engine.load(huge, context=10**9).result()
    assert engine.model_info is None


def test_without_llama_cpp_a_gguf_gets_one_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "llama_cpp", None)
    with pytest.raises(ModelError, match="needs llama-cpp-python") as refused:
        require_llama_cpp()
    assert str(refused.value) == MISSING


def test_the_api_server_answers_with_a_gguf_model(smollm2_llamacpp: Engine) -> None:
    server = LiveServer(smollm2_llamacpp, ServerConfig(port=0))
    try:
        client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="unused", max_retries=0)
        reply = client.chat.completions.create(
            model=smollm2_llamacpp.model_info.name,
            messages=[{"role": "system", "content": SYSTEM}, {"role": "user", "content": "What is the capital of France?"}],
            temperature=0, max_tokens=24,
        )
    finally:
        server.close()
    assert "Paris" in reply.choices[0].message.content


def test_a_grammar_makes_the_answer_fill_the_schema(smollm2_llamacpp: Engine) -> None:
    city = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 20}, "country": {"enum": ["France", "Italy"]}},
            "required": ["city", "country"], "additionalProperties": False}  # fmt: skip
    settings = SamplingSettings(temperature=0, max_tokens=60, grammar=json_schema_grammar(city, "city"))
    finished = smollm2_llamacpp.chat(CAPITAL, settings, None).result()
    assert finished.finish_reason == "stop"
    jsonschema.validate(json.loads(finished.text), city)


@pytest.fixture
def tools_gguf_server(engine: Engine, tmp_path: Path) -> Any:
    """A random tiny llama GGUF with Qwen2.5's tool template, on llama.cpp, behind the API server."""
    from tests.gguf_factory import GgufSpec, write_gguf

    template = (Path(__file__).parent / "fixtures" / "qwen2_5_tools.jinja").read_text()
    spec = GgufSpec(chat_template=template, context_length=2048)  # its byte-level vocabulary makes long prompts
    engine.load(write_gguf(tmp_path / "tools.gguf", spec)).result()
    server = LiveServer(engine, ServerConfig(port=0))
    yield server
    server.close()


def test_a_gguf_with_a_tool_template_takes_tools_as_on_mlx(tools_gguf_server: LiveServer) -> None:
    tools = tools_gguf_server.engine.tool_format
    assert (tools.family, tools.call_start, tools.call_end) == ("json_tools", "<tool_call>", "</tool_call>")


def test_a_required_tool_call_on_llama_cpp_names_the_tool_with_valid_arguments(tools_gguf_server: LiveServer) -> None:
    arguments = {"type": "object", "properties": {"city": {"type": "string", "maxLength": 12}},
                 "required": ["city"], "additionalProperties": False}  # fmt: skip
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": arguments}}
    client = openai.OpenAI(base_url=f"{tools_gguf_server.url}/v1", api_key="unused", max_retries=0)
    reply = client.chat.completions.create(
        model=tools_gguf_server.engine.model_info.name, messages=[{"role": "user", "content": "Weather in Paris?"}],
        tools=[weather], tool_choice="required", temperature=1.0, seed=1, max_tokens=120,
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    (call,) = choice.message.tool_calls
    assert call.function.name == "get_weather"
    jsonschema.validate(json.loads(call.function.arguments), arguments)


def test_a_prompt_longer_than_llama_cpps_context_is_refused_in_one_line(engine: Engine, tmp_path: Path) -> None:
    from tests.gguf_factory import GgufSpec, write_gguf

    engine.load(write_gguf(tmp_path / "short.gguf", GgufSpec(context_length=512))).result()
    finished = engine.chat([user("Paris " * 400)], SamplingSettings(temperature=0, max_tokens=8)).result()
    assert finished.finish_reason == "error"
    assert "more than the context length of 512" in finished.error


def test_the_window_streams_an_answer_from_a_gguf_model(qtbot, make_window, smollm2_gguf: Path) -> None:
    from tests.app_fixtures import chat_pane, send

    window = make_window(smollm2_gguf)
    window.context.settings.set("max_tokens", 24)
    pane = chat_pane(window)
    streamed = []
    pane.session.sig_streamed.connect(lambda text, _stats: streamed.append(text))
    send(qtbot, pane, "What is the capital of France?")
    _, answer = pane.session.thread
    assert answer.finish_reason in ("stop", "length") and answer.generated_tokens > 0
    assert answer.text == "".join(streamed)
