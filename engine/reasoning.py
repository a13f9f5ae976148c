"""A reasoning model's thinking, told apart from its answer while the text streams.

Local reasoning models write their thinking in one of two shapes:
- `<think>…</think>` before the answer (Qwen3, SmolLM3, DeepSeek-R1 distills). Some templates open the
  tag in the prompt (DeepSeek-R1's generation prompt ends with `<think>\\n`, as do Qwen3's thinking-only
  versions): the output then starts inside the thinking and only the closing tag appears.
- gpt-oss's harmony channels: `<|channel|>analysis<|message|>…<|end|>` is thinking,
  `<|channel|>final<|message|>…` the answer.

`reasoning_format` picks the shape from the chat template and the rendered prompt; a splitter turns
the streamed pieces into thinking and answer deltas. A tag may arrive split across tokens ("</th" then
"ink>"), so the end of a piece that could begin a tag is held back until the next piece settles it:
no tag ever leaks into either side.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

ReasoningFormat = Literal["think", "opened", "harmony"]
"""think: the output may start with `<think>`; opened: the prompt opened it; harmony: gpt-oss channels."""

THINK_OPEN, THINK_CLOSE = "<think>", "</think>"
HARMONY_MARK = "<|channel|>"
HARMONY_MESSAGE = "<|message|>"
HARMONY_ENDS = ("<|end|>", "<|return|>", "<|call|>")
HARMONY_THINKING_CHANNEL = "analysis"


@dataclass(frozen=True)
class Split:
    """What a piece of output adds to the thinking and to the answer."""

    reasoning: str = ""
    answer: str = ""

    def __add__(self, other: Split) -> Split:
        return Split(self.reasoning + other.reasoning, self.answer + other.answer)


def reasoning_format(template: str | None, rendered_prompt: str) -> ReasoningFormat:
    """How this model's output carries its thinking, judged from its chat template and the prompt it renders."""
    if template and HARMONY_MARK in template:
        return "harmony"
    return "opened" if rendered_prompt.rstrip().endswith(THINK_OPEN) else "think"


class Splitter(Protocol):
    def feed(self, text: str) -> Split:
        """The thinking and answer text settled by this piece (some of it may be held back)."""

    def flush(self) -> Split:
        """The output ended: whatever was held back."""


def splitter_for(kind: ReasoningFormat | None) -> Splitter:
    """A splitter for the format; None (a raw completion) passes everything through as answer."""
    if kind == "harmony":
        return HarmonySplitter()
    if kind is None:
        return PassThrough()
    return ThinkSplitter(opened=kind == "opened")


def held_tail(text: str, markers: tuple[str, ...]) -> int:
    """Length of the longest end of `text` that is the start of one of `markers` (and so may be a split tag)."""
    longest = min(len(text), max(len(m) for m in markers) - 1)
    for n in range(longest, 0, -1):
        if any(m.startswith(text[-n:]) for m in markers):
            return n
    return 0


class PassThrough:
    def feed(self, text: str) -> Split:
        return Split(answer=text)

    def flush(self) -> Split:
        return Split()


class ThinkSplitter:
    """`<think>thinking</think>answer`, the opening tag optional when the prompt already opened it."""

    def __init__(self, opened: bool) -> None:
        self._opened = opened
        self._state: Literal["start", "thinking", "after", "answer"] = "start"
        self._held = ""
        self._thought = False
        """Whether any thinking text was given out yet (leading blank lines of the thinking are dropped)."""

    def feed(self, text: str) -> Split:
        if self._state == "answer":
            return Split(answer=text)  # the common case, kept cheap: it runs for every token
        if self._state == "thinking" and self._thought and not self._held and "<" not in text:
            thought = text.rstrip()
            self._held = text[len(thought) :]
            return Split(reasoning=thought)
        self._held += text
        out = Split()
        while self._held:
            step = getattr(self, f"_{self._state}")()
            if step is None:
                break
            out += step
        return out

    def _start(self) -> Split | None:
        opening = self._held.lstrip()
        if opening.startswith(THINK_OPEN):
            self._state, self._held = "thinking", opening[len(THINK_OPEN) :]
        elif not opening or THINK_OPEN.startswith(opening):
            return None
        else:
            self._state = "thinking" if self._opened else "answer"
        return Split()

    def _thinking(self) -> Split | None:
        if not self._thought:
            self._held = self._held.lstrip()
            if not self._held:
                return None
        end = self._held.find(THINK_CLOSE)
        if end >= 0:
            thought, self._held, self._state = self._held[:end].rstrip(), self._held[end + len(THINK_CLOSE) :], "after"
        else:
            # Trailing blank space is held too: before the closing tag it is dropped, like the leading.
            settled = self._held[: len(self._held) - held_tail(self._held, (THINK_CLOSE,))]
            thought, self._held = settled.rstrip(), self._held[len(settled.rstrip()) :]
            if not thought:
                return None
        self._thought = self._thought or bool(thought)
        return Split(reasoning=thought)

    def _after(self) -> Split | None:
        self._held = self._held.lstrip()
        if not self._held:
            return None
        self._state = "answer"
        return Split()

    def _answer(self) -> Split:
        text, self._held = self._held, ""
        return Split(answer=text)

    def flush(self) -> Split:
        text, self._held = self._held, ""
        if self._state == "thinking" or (self._state == "start" and self._opened):
            return Split(reasoning=text.strip() if not self._thought else text.rstrip())
        return Split(answer=text if self._state != "after" else "")


class HarmonySplitter:
    """gpt-oss: messages `<|channel|>NAME<|message|>BODY<|end|>`, each header after `<|start|>assistant`.

    The analysis channel is thinking; final (and commentary) is answer. Output that is not in harmony
    at all (no header before the first text) is answer as it is.
    """

    def __init__(self) -> None:
        self._held = ""
        self._channel: str | None = None
        """The channel of the message being written; None between messages (reading a header)."""

    def feed(self, text: str) -> Split:
        if self._channel is not None and not self._held and "<" not in text:
            return self._as_channel(text)  # the common case, kept cheap: it runs for every token
        self._held += text
        out = Split()
        while self._held:
            step = self._header() if self._channel is None else self._body()
            if step is None:
                break
            out += step
        return out

    def _header(self) -> Split | None:
        opening = self._held.lstrip()
        if opening and not opening.startswith("<|") and not "<|".startswith(opening):
            self._channel = "final"  # plain text outside any header
            return Split()
        start = self._held.find(HARMONY_MESSAGE)
        if start < 0:
            return None
        header, self._held = self._held[:start], self._held[start + len(HARMONY_MESSAGE) :]
        self._channel = channel_of(header)
        return Split()

    def _body(self) -> Split | None:
        ends = [(i, m) for m in HARMONY_ENDS if (i := self._held.find(m)) >= 0]
        if ends:
            end, marker = min(ends)
            body, self._held = self._held[:end], self._held[end + len(marker) :]
            split = self._as_channel(body)
            self._channel = None
            return split
        keep = held_tail(self._held, HARMONY_ENDS)
        body, self._held = self._held[: len(self._held) - keep], self._held[len(self._held) - keep :]
        return self._as_channel(body) if body else None

    def _as_channel(self, text: str) -> Split:
        return Split(reasoning=text) if self._channel == HARMONY_THINKING_CHANNEL else Split(answer=text)

    def flush(self) -> Split:
        text, self._held = self._held, ""
        if self._channel is None:
            return Split()  # an unfinished header says nothing
        return self._as_channel(text)


def channel_of(header: str) -> str:
    """The channel a harmony header names (`<|start|>assistant<|channel|>analysis`, or `… to=fn <|constrain|>json`)."""
    if HARMONY_MARK not in header:
        return "final"
    named = header.rsplit(HARMONY_MARK, 1)[1].strip()
    return named.split()[0].split("<|")[0] if named else "final"
