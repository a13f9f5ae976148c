"""Requests that belong to no conversation (the local API) reuse whichever cache holds their prompt's prefix."""

from __future__ import annotations

from pathlib import Path

import mlx_lm

from engine.generation import Engine, Finished, SamplingSettings
from engine.messages import Message, assistant, system, user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=8)
SYSTEM = system("You are Cabin, a local assistant. Answer in Markdown with tables and lists.")


def ask(engine: Engine, messages: list[Message]) -> Finished:
    return engine.chat(messages, GREEDY, conversation_id=None).result()


def test_a_request_sharing_a_system_prompt_prefills_only_what_differs(llama_engine: Engine) -> None:
    first = ask(llama_engine, [SYSTEM, user("About apples")])
    second = ask(llama_engine, [SYSTEM, user("About boats")])
    assert first.stats.cached_tokens == 0
    assert second.stats.cached_tokens > 20
    assert second.stats.prefilled_tokens < first.stats.prefilled_tokens


def test_a_conversation_resent_in_full_reuses_its_answer_even_after_other_requests(llama_engine: Engine) -> None:
    first = ask(llama_engine, [SYSTEM, user("About apples")])
    ask(llama_engine, [SYSTEM, user("About boats")])
    follow_up = ask(llama_engine, [SYSTEM, user("About apples"), assistant(first.text), user("More")])
    assert follow_up.stats.cached_tokens == first.stats.prompt_tokens + first.stats.generated_tokens


def test_the_same_request_twice_gives_the_same_answer_from_the_cache(llama_engine: Engine) -> None:
    first = ask(llama_engine, [SYSTEM, user("Hello")])
    again = ask(llama_engine, [SYSTEM, user("Hello")])
    assert again.token_ids == first.token_ids
    assert again.stats.prefilled_tokens == 1


def test_shared_requests_leave_conversation_caches_alone(llama_engine: Engine) -> None:
    mine = llama_engine.chat([user("Mine")], GREEDY, conversation_id="mine").result()
    for n in range(6):
        ask(llama_engine, [user(f"Request {n}")])
    back = llama_engine.chat([user("Mine"), assistant(mine.text), user("More")], GREEDY, "mine").result()
    assert back.stats.cached_tokens == mine.stats.prompt_tokens + mine.stats.generated_tokens


def test_a_raw_completion_is_token_for_token_mlx_lm(llama_engine: Engine, llama_model: Path) -> None:
    finished = llama_engine.complete("Once upon a time", SamplingSettings(temperature=0.0, max_tokens=12)).result()
    model, tokenizer = mlx_lm.load(str(llama_model))
    responses = list(mlx_lm.stream_generate(model, tokenizer, tokenizer.encode("Once upon a time"), max_tokens=12))
    assert finished.stats.prompt_tokens == len(tokenizer.encode("Once upon a time"))
    assert list(finished.token_ids) == [r.token for r in responses]
