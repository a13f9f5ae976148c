"""Thinking told apart from the answer as text streams: `<think>` tags (opened by the model or by the prompt)
and gpt-oss's harmony channels, with tags split anywhere across tokens never leaking into either side."""

from __future__ import annotations

import pytest

from engine.reasoning import Split, reasoning_format, splitter_for


def split_stream(kind: str | None, pieces: list[str]) -> tuple[list[Split], Split]:
    """Each piece's Split, and all of them added up (the flush included)."""
    splitter = splitter_for(kind)
    steps = [splitter.feed(piece) for piece in pieces] + [splitter.flush()]
    total = Split()
    for step in steps:
        total += step
    return steps, total


def every_cut(text: str) -> list[list[str]]:
    """`text` cut into two pieces at every position, and into single characters."""
    return [[text[:i], text[i:]] for i in range(len(text) + 1)] + [list(text)]


QWEN_OUTPUT = "<think>\nThe user greets me.\n</think>\n\nHello!"
R1_OUTPUT = "Paris is the capital.\n</think>\n\nParis."
HARMONY_OUTPUT = ("<|channel|>analysis<|message|>User asks capital. Paris.<|end|>"
                  "<|start|>assistant<|channel|>final<|message|>It is Paris.<|return|>")


@pytest.mark.parametrize("pieces", every_cut(QWEN_OUTPUT))
def test_think_tags_split_anywhere_never_leak(pieces: list[str]) -> None:
    assert split_stream("think", pieces)[1] == Split("The user greets me.", "Hello!")


@pytest.mark.parametrize("pieces", every_cut(R1_OUTPUT))
def test_a_prompt_opened_think_ends_at_the_closing_tag(pieces: list[str]) -> None:
    assert split_stream("opened", pieces)[1] == Split("Paris is the capital.", "Paris.")


@pytest.mark.parametrize("pieces", every_cut(HARMONY_OUTPUT))
def test_harmony_analysis_is_thinking_and_final_is_the_answer(pieces: list[str]) -> None:
    assert split_stream("harmony", pieces)[1] == Split("User asks capital. Paris.", "It is Paris.")


def test_an_answer_without_think_tags_is_all_answer() -> None:
    assert split_stream("think", ["Hello", " there <b>"])[1] == Split("", "Hello there <b>")


def test_thinking_streams_before_its_closing_tag_arrives() -> None:
    steps, _ = split_stream("think", ["<think>", "Let me", " see", "</th", "ink>", "Yes"])
    assert [step.reasoning for step in steps] == ["", "Let me", " see", "", "", "", ""]
    assert [step.answer for step in steps] == ["", "", "", "", "", "Yes", ""]


def test_a_prompt_opened_think_that_the_model_repeats_is_not_shown() -> None:
    assert split_stream("opened", ["<think>\n", "Hmm.", "</think>", "Ok"])[1] == Split("Hmm.", "Ok")


def test_an_answer_cut_off_while_thinking_keeps_its_thinking() -> None:
    assert split_stream("opened", ["Still thinking </thi"])[1] == Split("Still thinking </thi", "")


def test_text_that_only_looks_like_the_start_of_a_tag_is_given_back() -> None:
    assert split_stream("think", ["<thi"])[1] == Split("", "<thi")


def test_harmony_output_outside_any_channel_is_answer() -> None:
    assert split_stream("harmony", ["Just text."])[1] == Split("", "Just text.")


def test_a_raw_completion_is_never_split() -> None:
    assert split_stream(None, ["<think>x</think>y"])[1] == Split("", "<think>x</think>y")


def test_the_format_follows_the_template_and_the_prompt() -> None:
    assert reasoning_format("{{ '<|start|>assistant<|channel|>final' }}", "<|start|>assistant") == "harmony"
    assert reasoning_format("…", "<｜Assistant｜><think>\n") == "opened"
    assert reasoning_format("…", "<|im_start|>assistant\n<think>\n\n</think>\n\n") == "think"
    assert reasoning_format(None, "User: hi\nAssistant:") == "think"
