"""Reasoning models answering through the real turn code: their real chat templates (tests/templates/), a
scripted token stream, and the events and prompts that come out."""

from __future__ import annotations

from collections.abc import Callable
from threading import Event as StopFlag
from typing import Any

from engine.generation.events import Event, Finished, Token
from engine.generation.prompt_cache import ConversationCache
from engine.generation.settings import SamplingSettings
from engine.generation.turn import prepare_chat, render_prompt, run_turn
from engine.messages import Message, Reasoning, Text, assistant, user
from tests.reasoning_models import ScriptedBackend

GREEDY = SamplingSettings(temperature=0.0, max_tokens=200)


def answer(tokenizer: Any, output: str, messages: list[Message], settings: SamplingSettings = GREEDY) -> list[Event]:
    """The events of one answer whose model writes `output`."""
    backend = ScriptedBackend(tokenizer, tokenizer.encode(output, add_special_tokens=False))
    events: list[Event] = []
    run_turn(backend, ConversationCache(backend), prepare_chat(tokenizer, messages, settings), StopFlag(), events.append)
    return events


def streamed(events: list[Event]) -> tuple[str, str]:
    tokens = [e for e in events if isinstance(e, Token)]
    return "".join(t.reasoning for t in tokens), "".join(t.text for t in tokens)


def test_qwen3_thinking_streams_apart_from_the_answer(family_tokenizers: Callable[[str], Any]) -> None:
    events = answer(family_tokenizers("qwen3"), "<think>\nA greeting.\n</think>\n\nHello!", [user("Hi")])
    assert streamed(events) == ("A greeting.", "Hello!")
    assert (events[-1].reasoning, events[-1].text) == ("A greeting.", "Hello!")


def test_a_think_tag_spelled_over_several_tokens_does_not_leak(family_tokenizers: Callable[[str], Any]) -> None:
    tokenizer = family_tokenizers("chatml")  # no <think> token: each tag is cut into several
    assert len(tokenizer.encode("</think>", add_special_tokens=False)) > 1
    events = answer(tokenizer, "<think>Hmm</think>Hello", [user("Hi")])
    assert streamed(events) == ("Hmm", "Hello")


def test_deepseek_r1_opens_thinking_in_the_prompt_and_only_the_closing_tag_comes(
    family_tokenizers: Callable[[str], Any],
) -> None:
    tokenizer = family_tokenizers("deepseek_r1")
    assert render_prompt(tokenizer, [user("Capital of France?")]).endswith("<｜Assistant｜><think>\n")
    events = answer(tokenizer, "France's capital is Paris.\n</think>\n\nParis.", [user("Capital of France?")])
    assert (events[-1].reasoning, events[-1].text) == ("France's capital is Paris.", "Paris.")


def test_gpt_oss_analysis_channel_is_thinking_and_final_channel_the_answer(family_tokenizers: Callable[[str], Any]) -> None:
    output = ("<|channel|>analysis<|message|>Simple greeting.<|end|>"
              "<|start|>assistant<|channel|>final<|message|>Hello!<|return|>")
    events = answer(family_tokenizers("gpt_oss"), output, [user("Hi")])
    assert streamed(events) == ("Simple greeting.", "Hello!")
    assert isinstance(events[-1], Finished) and events[-1].text == "Hello!"


def test_qwen3_leaves_earlier_answers_thinking_out_of_the_prompt(family_tokenizers: Callable[[str], Any]) -> None:
    earlier = Message("assistant", (Reasoning("SECRET-THOUGHT"), Text("Hello!")))
    rendered = render_prompt(family_tokenizers("qwen3"), [user("Hi"), earlier, user("And you?")])
    assert "SECRET-THOUGHT" not in rendered and "<|im_start|>assistant\nHello!<|im_end|>" in rendered


def test_deepseek_r1_leaves_earlier_answers_thinking_out_of_the_prompt(family_tokenizers: Callable[[str], Any]) -> None:
    earlier = Message("assistant", (Reasoning("SECRET-THOUGHT"), Text("Paris.")))
    rendered = render_prompt(family_tokenizers("deepseek_r1"), [user("Capital?"), earlier, user("Sure?")])
    assert "SECRET-THOUGHT" not in rendered and "<｜Assistant｜>Paris.<｜end▁of▁sentence｜>" in rendered


def test_gpt_oss_leaves_earlier_answers_thinking_out_of_the_prompt(family_tokenizers: Callable[[str], Any]) -> None:
    earlier = Message("assistant", (Reasoning("SECRET-THOUGHT"), Text("Hello!")))
    rendered = render_prompt(family_tokenizers("gpt_oss"), [user("Hi"), earlier, user("And you?")])
    assert "SECRET-THOUGHT" not in rendered
    assert "<|start|>assistant<|channel|>final<|message|>Hello!<|end|>" in rendered


def test_a_thinking_switched_off_reaches_qwen3s_template(family_tokenizers: Callable[[str], Any]) -> None:
    tokenizer = family_tokenizers("qwen3")
    off = render_prompt(tokenizer, [user("Hi")], thinking=False)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert render_prompt(tokenizer, [user("Hi")], thinking=True).endswith("<|im_start|>assistant\n")


def test_with_thinking_off_qwen3s_answer_is_all_answer(family_tokenizers: Callable[[str], Any]) -> None:
    events = answer(family_tokenizers("qwen3"), "Hello!", [user("Hi")], SamplingSettings(temperature=0.0, thinking=False))
    assert (events[-1].reasoning, events[-1].text) == ("", "Hello!")


def test_a_model_without_thinking_answers_as_before(family_tokenizers: Callable[[str], Any]) -> None:
    events = answer(family_tokenizers("chatml"), "Plain <b>answer</b>", [user("Hi"), assistant("Yes"), user("Go")])
    assert streamed(events) == ("", "Plain <b>answer</b>")


def test_the_next_turn_reuses_the_cached_prompt_up_to_the_dropped_thinking(family_tokenizers: Callable[[str], Any]) -> None:
    tokenizer = family_tokenizers("qwen3")
    backend = ScriptedBackend(tokenizer, tokenizer.encode("<think>\nA greeting.\n</think>\n\nHello!", add_special_tokens=False))
    cache = ConversationCache(backend)
    first = [user("Hi")]
    done = run_turn(backend, cache, prepare_chat(tokenizer, first, GREEDY), StopFlag(), lambda e: None)
    second = first + [Message("assistant", (Reasoning(done.reasoning), Text(done.text))), user("And you?")]
    run_turn(backend, cache, prepare_chat(tokenizer, second, GREEDY), StopFlag(), lambda e: None)
    first_prompt = tokenizer.encode(render_prompt(tokenizer, first), add_special_tokens=False)
    second_prompt = tokenizer.encode(render_prompt(tokenizer, second), add_special_tokens=False)
    reused = len(second_prompt) - len(backend.prompts[1])
    assert reused >= len(first_prompt) and backend.prompts[1] == second_prompt[reused:]


def test_each_template_gets_the_thinking_under_the_name_it_reads(family_tokenizers: Callable[[str], Any]) -> None:
    from engine.chat_template import template_messages

    thought = [Message("assistant", (Reasoning("Hmm."), Text("Hi!")))]
    names = {family: set(template_messages(thought, family_tokenizers(family).chat_template)[0]) - {"role", "content"}
             for family in ("qwen3", "gpt_oss", "deepseek_r1")}
    assert names == {"qwen3": {"reasoning_content"}, "gpt_oss": {"thinking"}, "deepseek_r1": set()}
