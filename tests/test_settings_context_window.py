"""The context length: old messages are left out, the answer is shortened, the latest message always stays."""

from __future__ import annotations

import pytest

from engine.generation import Engine, SamplingSettings
from engine.generation.context_window import ContextOverflow, fit_to_context
from engine.messages import Message, assistant, system, user

SYSTEM = system("Be brief.")


def turns(n: int) -> list[Message]:
    messages = []
    for i in range(n):
        messages += [user(f"question {i}"), assistant(f"answer {i}")]
    return messages


def ten_per_message(messages: list[Message]) -> int:
    return 10 * len(messages)


def test_a_conversation_that_fits_is_sent_whole() -> None:
    messages = [SYSTEM, *turns(2), user("next")]
    fitted = fit_to_context(messages, ten_per_message, context_length=1000, max_tokens=100)
    assert fitted.messages == messages and fitted.dropped == 0 and fitted.max_tokens == 100


def test_the_oldest_turns_are_left_out_and_the_system_prompt_and_latest_message_kept() -> None:
    latest = user("next")
    fitted = fit_to_context([SYSTEM, *turns(10), latest], ten_per_message, context_length=200, max_tokens=50)
    assert fitted.messages[0] == SYSTEM and fitted.messages[-1] == latest
    assert fitted.messages[1].role == "user"
    assert fitted.prompt_tokens <= 150 * 0.75


def test_more_than_needed_is_left_out_so_the_next_turns_still_fit() -> None:
    fitted = fit_to_context([SYSTEM, *turns(10), user("next")], ten_per_message, 200, 50)
    assert fitted.prompt_tokens + 20 <= 150


def test_the_answer_keeps_room_for_max_tokens_up_to_half_the_context() -> None:
    fitted = fit_to_context([SYSTEM, *turns(3), user("x")], ten_per_message, 100, 500)
    assert fitted.prompt_tokens <= 50 and fitted.max_tokens == 100 - fitted.prompt_tokens


def test_a_latest_message_longer_than_the_context_is_refused() -> None:
    with pytest.raises(ContextOverflow, match="context length of 100"):
        fit_to_context([SYSTEM, user("long")], lambda _m: 150, 100, 10)


def test_the_engine_leaves_old_messages_out_and_says_how_many(llama_engine: Engine) -> None:
    messages = [SYSTEM, *turns(12), user("and now?")]
    settings = SamplingSettings(temperature=0, max_tokens=16, context_length=128)
    finished = llama_engine.chat(messages, settings).result()
    assert finished.finish_reason in ("stop", "length")
    assert finished.stats.dropped_messages > 0
    assert finished.stats.prompt_tokens + finished.stats.generated_tokens <= 128


def test_the_answer_is_cut_to_what_is_left_of_the_context(llama_engine: Engine) -> None:
    messages = [user("Hello there")]
    prompt_tokens = llama_engine.chat(messages, SamplingSettings(temperature=0, max_tokens=1)).result().stats.prompt_tokens
    settings = SamplingSettings(temperature=0, max_tokens=500, context_length=prompt_tokens + 3)
    finished = llama_engine.chat(messages, settings, conversation_id="short").result()
    assert finished.stats.generated_tokens <= 3


def test_a_message_that_cannot_fit_ends_the_answer_with_a_clear_error(llama_engine: Engine) -> None:
    messages = [user("word " * 200)]
    finished = llama_engine.chat(messages, SamplingSettings(max_tokens=8, context_length=32)).result()
    assert finished.finish_reason == "error" and "context length of 32" in finished.error


def test_no_context_length_means_no_limit(llama_engine: Engine) -> None:
    messages = [SYSTEM, *turns(12), user("and now?")]
    finished = llama_engine.chat(messages, SamplingSettings(temperature=0, max_tokens=4)).result()
    assert finished.stats.dropped_messages == 0


def test_the_context_length_is_capped_at_the_models_own(llama_engine: Engine) -> None:
    assert llama_engine.model_info.context_length == 2048
    messages = [SYSTEM, *turns(150), user("and now?")]
    settings = SamplingSettings(temperature=0, max_tokens=4, context_length=100_000)
    finished = llama_engine.chat(messages, settings).result()
    assert finished.stats.dropped_messages > 0 and finished.stats.prompt_tokens < 2048


def test_the_cli_takes_a_context_length_and_says_when_a_prompt_cannot_fit(llama_model) -> None:
    from tests.test_cli import cabin

    result = cabin("chat", "--model", str(llama_model), "--prompt", "word " * 100, "--context-length", "16")
    assert result.returncode == 1 and "context length of 16" in result.stderr


def test_a_completion_is_cut_to_what_its_prompt_leaves_of_the_context(llama_engine: Engine) -> None:
    settings = SamplingSettings(temperature=0, max_tokens=500, context_length=64)
    finished = llama_engine.complete("Once upon a time", settings).result()
    assert 0 < finished.stats.generated_tokens and finished.stats.prompt_tokens + finished.stats.generated_tokens <= 64


def test_a_completion_prompt_longer_than_the_context_is_refused(llama_engine: Engine) -> None:
    finished = llama_engine.complete("word " * 100, SamplingSettings(max_tokens=8, context_length=16)).result()
    assert finished.finish_reason == "error" and "context length of 16" in finished.error
