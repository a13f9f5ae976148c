"""The prompt cache: each turn prefills only what is new; regenerate and edit rewind it correctly."""

from __future__ import annotations

from pathlib import Path

from engine.generation import Engine, Finished, SamplingSettings
from engine.messages import Message, assistant, system, user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=12)
SYSTEM = system("You are Cabin.")


def reply(finished: Finished) -> Message:
    return assistant(finished.text)


def fresh_answer(model: Path, messages: list[Message]) -> Finished:
    engine = Engine()
    try:
        engine.load(model).result()
        return engine.chat(messages, GREEDY).result()
    finally:
        engine.shutdown()


def test_second_turn_prefills_only_the_new_tokens(llama_engine: Engine) -> None:
    first = llama_engine.chat([SYSTEM, user("Hello")], GREEDY).result()
    cached = first.stats.prompt_tokens + first.stats.generated_tokens
    second = llama_engine.chat([SYSTEM, user("Hello"), reply(first), user("And then?")], GREEDY).result()
    assert second.stats.cached_tokens == cached
    assert second.stats.prefilled_tokens == second.stats.prompt_tokens - cached


def test_tenth_turn_still_prefills_only_the_new_tokens(llama_engine: Engine) -> None:
    messages = [SYSTEM]
    answers = []
    for turn in range(10):
        messages.append(user(f"Question {turn}?"))
        answers.append(llama_engine.chat(messages, GREEDY).result())
        messages.append(reply(answers[-1]))
    ninth, tenth = answers[-2].stats, answers[-1].stats
    assert tenth.prompt_tokens > 150
    assert tenth.cached_tokens == ninth.prompt_tokens + ninth.generated_tokens


def test_multi_turn_answers_match_a_run_without_cache_reuse(llama_engine: Engine, llama_model: Path) -> None:
    """Reusing the cache changes nothing: a conversation replayed on a fresh engine gives the same tokens."""
    messages = [SYSTEM, user("Hello")]
    first = llama_engine.chat(messages, GREEDY).result()
    messages += [reply(first), user("Tell me more")]
    second = llama_engine.chat(messages, GREEDY).result()
    engine = Engine()
    try:
        engine.load(llama_model).result()
        engine.chat(messages[:2], GREEDY).result()
        engine.forget("default").result()
        again = engine.chat(messages, GREEDY, conversation_id="other").result()
    finally:
        engine.shutdown()
    assert again.stats.cached_tokens == 0
    assert again.token_ids == second.token_ids


def test_regenerate_reuses_the_prompt_and_matches_a_fresh_generation(llama_engine: Engine, llama_model: Path) -> None:
    messages = [SYSTEM, user("Hello")]
    llama_engine.chat(messages, GREEDY).result()
    regenerated = llama_engine.chat(messages, GREEDY).result()
    assert regenerated.stats.prefilled_tokens == 1
    assert regenerated.token_ids == fresh_answer(llama_model, messages).token_ids


def test_regenerate_after_several_turns_matches_the_original_answer(llama_engine: Engine) -> None:
    messages = [SYSTEM, user("Hello")]
    first = llama_engine.chat(messages, GREEDY).result()
    messages += [reply(first), user("Why?")]
    second = llama_engine.chat(messages, GREEDY).result()
    regenerated = llama_engine.chat(messages, GREEDY).result()
    assert regenerated.token_ids == second.token_ids
    assert regenerated.stats.prefilled_tokens == 1


def test_editing_a_past_message_trims_the_cache_and_matches_a_fresh_generation(llama_engine: Engine, llama_model: Path) -> None:
    first = llama_engine.chat([SYSTEM, user("Hello")], GREEDY).result()
    llama_engine.chat([SYSTEM, user("Hello"), reply(first), user("More")], GREEDY).result()
    edited = [SYSTEM, user("Goodbye")]
    answer = llama_engine.chat(edited, GREEDY).result()
    assert 0 < answer.stats.cached_tokens < answer.stats.prompt_tokens
    assert answer.token_ids == fresh_answer(llama_model, edited).token_ids


def test_a_stopped_answer_is_kept_in_the_cache(llama_engine: Engine) -> None:
    generation = llama_engine.chat([SYSTEM, user("Hello")], SamplingSettings(temperature=0, max_tokens=1000))
    for count, _ in enumerate(generation):
        if count == 4:
            generation.stop()
    stopped = generation.result()
    follow_up = [SYSTEM, user("Hello"), reply(stopped), user("Go on")]
    answer = llama_engine.chat(follow_up, GREEDY).result()
    assert answer.stats.cached_tokens == stopped.stats.prompt_tokens + stopped.stats.generated_tokens


def test_conversations_keep_separate_caches(llama_engine: Engine) -> None:
    a = llama_engine.chat([user("About apples")], GREEDY, conversation_id="a").result()
    llama_engine.chat([user("About boats")], GREEDY, conversation_id="b").result()
    back_to_a = llama_engine.chat([user("About apples"), reply(a), user("More")], GREEDY, conversation_id="a").result()
    assert back_to_a.stats.cached_tokens == a.stats.prompt_tokens + a.stats.generated_tokens


def test_forgetting_a_conversation_rebuilds_its_cache(llama_engine: Engine) -> None:
    first = llama_engine.chat([user("Hello")], GREEDY).result()
    llama_engine.forget("default").result()
    second = llama_engine.chat([user("Hello"), reply(first), user("More")], GREEDY).result()
    assert second.stats.cached_tokens == 0
