"""How hard a request looks, from cheap local signals: a score in [0, 1] and the words that explain it.

The seed's rule was "short and frequent → local, long and rare → cloud". Length alone misjudges a short
proof request or a long paste to summarise, so each signal (length, code, maths, multi-step instructions,
attachments) adds its own share, combined as a noisy-or: two medium signals score higher than either,
and no pile of signals passes 1. Nothing here touches the network or the model; it takes microseconds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from engine.messages import File, Message

LONG_WORDS = 350
"""A question this long (attachments included) scores 0.6 for its length alone."""
CODE = re.compile(r"```|^\s*(def |class |import |from \S+ import |#include|fn |func |public |SELECT )|[{};]\s*$",
                  re.MULTILINE)
CODE_WORDS = re.compile(r"\b(code|function|bug|stack trace|traceback|refactor|compile|regex|algorithm|SQL)\b", re.I)
MATHS = re.compile(r"\$[^$]+\$|\\(frac|int|sum|sqrt)|[∑∫√≤≥≠∂]|"
                   r"\b(prove|proof|integral|derivative|theorem|equation|probability|matrix|eigen\w*|solve for)\b",
                   re.I)
STEPS = re.compile(r"^\s*(\d+[.)]|[-*•])\s+\S", re.MULTILINE)
STEP_WORDS = re.compile(r"\b(step by step|then|after that|finally|first|second|compare|analy[sz]e|design|plan|"
                        r"explain why|trade-?offs?)\b", re.I)


@dataclass(frozen=True)
class Complexity:
    score: float
    reason: str
    """A few words: "long multi-step request", "short simple request"."""


@dataclass(frozen=True)
class Signal:
    share: float
    """This signal's contribution to the score, 0..1."""
    word: str
    """How it reads in the reason ("long", "code", "maths", "multi-step", "with attachments")."""


def score_request(messages: Sequence[Message]) -> Complexity:
    """The complexity of the last user message (the one to be answered), its attachments included."""
    asked = next((m for m in reversed(messages) if m.role == "user"), None)
    if asked is None:
        return Complexity(0.0, "nothing asked")
    signals = [s for s in _signals(asked) if s.share > 0]
    remaining = 1.0
    for s in signals:
        remaining *= 1 - s.share
    return Complexity(round(1 - remaining, 2), _reason(signals))


def _signals(message: Message) -> list[Signal]:
    text = message.text
    files = message.of_kind(File)
    words = len(text.split()) + sum(len((f.text or "").split()) for f in files)
    return [
        Signal(min(0.9, 0.6 * words / LONG_WORDS), "long" if words >= LONG_WORDS / 3 else ""),
        Signal(0.35 if CODE.search(text) else 0.2 if CODE_WORDS.search(text) else 0.0, "code"),
        Signal(min(0.5, 0.25 * len(MATHS.findall(text))), "maths"),
        Signal(min(0.6, 0.12 * len(STEPS.findall(text)) + 0.1 * len(STEP_WORDS.findall(text))), "multi-step"),
        Signal(min(0.4, 0.2 * len(files)), "with attachments"),
    ]


def _reason(signals: list[Signal]) -> str:
    strong = [s for s in signals if s.share >= 0.15 and s.word]
    if not strong:
        return "short simple request"
    before = [s.word for s in strong if s.word != "with attachments"]
    after = [" with attachments"] if any(s.word == "with attachments" for s in strong) else []
    return " ".join(before + ["request"]) + "".join(after)
