"""Markdown cut into top-level blocks, and an answer that grows told apart into complete blocks and the one
being written (no Qt here: the message view builds on this)."""

from __future__ import annotations

import pytest

from app.chat import markdown_blocks
from app.chat.markdown_blocks import LiveMarkdown, split_blocks

ANSWER = (
    "Here is a function:\n\n```python\ndef is_prime(n):\n    if n < 2:\n        return False\n    return True\n```\n\n"
    "It checks `n`.\n\n| n | prime |\n|---|---|\n| 2 | yes |\n\nExample usage:\n```python\nprint(is_prime(7))\n```"
)


def stream(text: str, frame: int) -> tuple[list[markdown_blocks.Block], markdown_blocks.Block | None, LiveMarkdown]:
    live_markdown, complete, live = LiveMarkdown(), [], None
    for start in range(0, len(text), frame):
        done, live = live_markdown.feed(text[start : start + frame])
        complete += done
    return complete, live, live_markdown


def test_the_blocks_of_a_text_add_up_to_it() -> None:
    assert "".join(block.source for block in split_blocks(ANSWER)) == ANSWER


def test_code_blocks_carry_their_code_and_language() -> None:
    code = [block for block in split_blocks(ANSWER) if block.is_code]
    assert [(block.language, block.code) for block in code] == [
        ("python", "def is_prime(n):\n    if n < 2:\n        return False\n    return True\n"),
        ("python", "print(is_prime(7))\n"),
    ]


def test_a_fence_right_after_a_paragraph_line_starts_a_block_of_its_own() -> None:
    blocks = split_blocks("Example usage:\n```python\nx = 1\n```")
    assert [block.is_code for block in blocks] == [False, True]


def test_an_open_fence_is_a_code_block_with_the_code_so_far() -> None:
    (block,) = split_blocks("```python\ndef f():\n    ret")
    assert block.is_code and block.code == "def f():\n    ret"


@pytest.mark.parametrize("frame", [1, 3, 17])
def test_streamed_in_frames_each_complete_block_is_reported_once_in_order(frame: int) -> None:
    complete, live, _ = stream(ANSWER, frame)
    assert complete + [live] == split_blocks(ANSWER)


def test_a_block_is_complete_only_once_the_next_one_starts() -> None:
    live_markdown = LiveMarkdown()
    assert live_markdown.feed("First paragraph.\n\n") == ([], split_blocks("First paragraph.\n\n")[0])
    complete, live = live_markdown.feed("Second")
    assert [block.source for block in complete] == ["First paragraph.\n\n"] and live.source == "Second"


def test_more_text_is_parsed_from_the_block_being_written_on(monkeypatch: pytest.MonkeyPatch) -> None:
    parsed: list[str] = []
    split = markdown_blocks.split_blocks
    monkeypatch.setattr(markdown_blocks, "split_blocks", lambda text: parsed.append(text) or split(text))
    _complete, _live, live_markdown = stream(ANSWER, 5)
    live_markdown.feed("\nmore")
    assert parsed[-1] == "```python\nprint(is_prime(7))\n```\nmore"


def test_carriage_returns_do_not_shift_block_boundaries() -> None:
    complete, live, _ = stream("One.\r\n\r\n```\ncode\r\n```\r\n\r\nTwo.", 4)
    assert [block.source for block in complete] == ["One.\n\n", "```\ncode\n```\n\n"] and live.source == "Two."


def test_a_fence_has_a_language_once_its_first_line_is_complete() -> None:
    assert [split_blocks(text)[0].language for text in ("```pyt", "```python", "```python\n")] == ["", "", "python"]
