"""Chat generation: parity with mlx_lm, streaming, sampling settings, stop, stats and errors."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import mlx_lm
import pytest

from engine.generation import Engine, Finished, SamplingSettings, Token
from engine.generation.turn import render_prompt
from engine.messages import Image, Message, system, user
from tests.conftest import stop_after_three_tokens

GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)
HELLO = [user("Hello there")]


def mlx_lm_tokens(model_path: Path, messages: list[dict[str, str]], max_tokens: int) -> list[int]:
    """What raw mlx_lm generates greedily for the same chat, on this (test) thread."""
    model, tokenizer = mlx_lm.load(str(model_path))
    prompt = tokenizer.apply_chat_template(messages, add_generation_prompt=True)
    responses = list(mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=max_tokens))
    ids = [r.token for r in responses]
    return ids[:-1] if responses[-1].finish_reason == "stop" else ids


@pytest.mark.parametrize("fixture", ["llama_model", "qwen2_model", "llama_4bit_model", "llama_fp16_model", "bf16_4bit_model"])
def test_greedy_output_is_token_for_token_mlx_lm(engine_as_stored: Engine, fixture: str, request: pytest.FixtureRequest) -> None:
    path = request.getfixturevalue(fixture)
    engine_as_stored.load(path).result()
    finished = engine_as_stored.chat([system("Be brief."), *HELLO], GREEDY).result()
    as_mlx_lm_reads_them = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello there"}]
    assert list(finished.token_ids) == mlx_lm_tokens(path, as_mlx_lm_reads_them, GREEDY.max_tokens)


def test_streamed_tokens_add_up_to_the_final_text(llama_engine: Engine) -> None:
    events = list(llama_engine.chat(HELLO, GREEDY))
    tokens = [e for e in events if isinstance(e, Token)]
    assert isinstance(events[-1], Finished)
    assert "".join(t.text for t in tokens) == events[-1].text
    assert len(tokens) == GREEDY.max_tokens


def test_system_prompt_is_rendered_through_the_chat_template(llama_engine: Engine) -> None:
    tokenizer = llama_engine.run_with_model(lambda _model, tokenizer: tokenizer).result()
    rendered = render_prompt(tokenizer, [system("You are terse."), *HELLO])
    assert rendered.startswith("<|im_start|>system\nYou are terse.<|im_end|>")
    assert rendered.endswith("<|im_start|>assistant\n")


def test_max_tokens_ends_with_length(llama_engine: Engine) -> None:
    finished = llama_engine.chat(HELLO, SamplingSettings(temperature=0, max_tokens=5)).result()
    assert finished.finish_reason == "length"
    assert finished.stats.generated_tokens == 5


def test_eos_ends_with_stop(engine: Engine, eos_model: Path) -> None:
    engine.load(eos_model).result()
    finished = engine.chat([user("Hello")], GREEDY).result()
    assert finished.finish_reason == "stop"
    assert finished.token_ids == ()


def test_same_seed_samples_the_same_answer(llama_engine: Engine) -> None:
    settings = SamplingSettings(temperature=1.0, top_p=0.9, max_tokens=16, seed=7)
    first = llama_engine.chat(HELLO, settings, conversation_id="a").result()
    second = llama_engine.chat(HELLO, settings, conversation_id="b").result()
    assert first.token_ids == second.token_ids


def test_different_seeds_sample_different_answers(llama_engine: Engine) -> None:
    answers = {
        llama_engine.chat(HELLO, SamplingSettings(temperature=1.5, max_tokens=16, seed=seed), conversation_id=str(seed))
        .result()
        .token_ids
        for seed in range(3)
    }
    assert len(answers) > 1


def test_repetition_penalty_changes_greedy_output(llama_engine: Engine) -> None:
    plain = llama_engine.chat(HELLO, GREEDY, conversation_id="plain").result()
    penalized = llama_engine.chat(HELLO, SamplingSettings(temperature=0, max_tokens=24, repetition_penalty=1.8), conversation_id="pen").result()
    assert plain.token_ids != penalized.token_ids


def test_invalid_sampling_settings_are_refused() -> None:
    with pytest.raises(ValueError, match="top_p must be in"):
        SamplingSettings(top_p=0)


def test_stop_ends_generation_at_the_next_token_and_keeps_the_text(llama_engine: Engine) -> None:
    generation = llama_engine.chat(HELLO, SamplingSettings(temperature=0, max_tokens=5000))
    finished, seen, made_at_stop = stop_after_three_tokens(generation)
    assert finished.finish_reason == "cancelled"
    assert finished.stats.generated_tokens <= made_at_stop + 2
    assert finished.text == "".join(t.text for t in seen)


def test_stop_before_start_cancels_without_generating(llama_engine: Engine) -> None:
    blocker = llama_engine.submit(lambda: None)
    generation = llama_engine.chat(HELLO, GREEDY)
    generation.stop()
    blocker.result()
    finished = generation.result(timeout=30)
    assert (finished.finish_reason, finished.text) == ("cancelled", "")


def test_stats_on_every_step_and_at_the_end(llama_engine: Engine) -> None:
    events = list(llama_engine.chat(HELLO, GREEDY))
    steps = [e.stats for e in events if isinstance(e, Token)]
    assert [s.generated_tokens for s in steps] == list(range(1, len(steps) + 1))
    final = events[-1].stats
    assert final.prompt_tokens == final.prefilled_tokens > 0
    assert final.prompt_tps > 0 and final.generation_tps > 0
    assert 0 < final.ttft < 30
    assert final.peak_memory > 0


def test_a_request_that_cannot_render_ends_with_an_error_and_the_engine_goes_on(llama_engine: Engine) -> None:
    broken = llama_engine.chat([Message("user", (Image(url="data:image/png;base64,AA=="),))], GREEDY).result()
    assert broken.finish_reason == "error"
    assert "could not prepare the prompt" in broken.error and "reads text only" in broken.error
    assert llama_engine.chat(HELLO, GREEDY).result().finish_reason == "length"


def test_chat_without_a_model_says_so(engine: Engine) -> None:
    finished = engine.chat(HELLO, GREEDY).result()
    assert (finished.finish_reason, finished.error) == ("error", "no model is loaded")


def test_events_can_be_consumed_on_an_asyncio_loop(llama_engine: Engine) -> None:
    async def collect() -> list:
        generation = llama_engine.chat(HELLO, GREEDY, loop=asyncio.get_running_loop())
        return [event async for event in generation]

    with ThreadPoolExecutor(1) as consumer:  # its own thread and loop, whatever loop the test session runs
        events = consumer.submit(asyncio.run, collect()).result(timeout=60)
    assert isinstance(events[-1], Finished)
    assert sum(isinstance(e, Token) for e in events) == GREEDY.max_tokens


def test_drain_returns_what_has_arrived_without_blocking(llama_engine: Engine) -> None:
    generation = llama_engine.chat(HELLO, GREEDY)
    generation.result()
    events = generation.drain()
    assert isinstance(events[-1], Finished)
    assert generation.drain() == []


def test_a_top_k_beyond_the_vocabulary_keeps_every_token(llama_engine: Engine) -> None:
    plain = llama_engine.chat(HELLO, SamplingSettings(temperature=1.0, max_tokens=8, seed=3), "a").result()
    huge_k = llama_engine.chat(HELLO, SamplingSettings(temperature=1.0, max_tokens=8, seed=3, top_k=10**6), "b").result()
    assert huge_k.finish_reason in ("stop", "length")
    assert huge_k.token_ids == plain.token_ids
