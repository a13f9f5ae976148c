"""The local model's own judgement of a request (optional, Preferences ▸ Cloud): a short classification prompt.

Asked greedily on the engine's worker like any answer, with its reply held to the two words "easy" or "hard"
by a grammar (engine/structured: even a 135M model that would rather answer the question must pick one), the
verdict is averaged with the cheap score. Small models judge poorly, so it is off by default; an answer that
fails (no model loaded) leaves the cheap score as it was.
"""

from __future__ import annotations

from engine.cloud.complexity import Complexity
from engine.generation import Engine, SamplingSettings
from engine.messages import Message, system, user
from engine.structured.grammar import lark_grammar

PROMPT = ("You sort requests for an assistant. Reply with one word: easy (a short factual or chatty request) "
          "or hard (long reasoning, code, maths, several steps).")
ASK = SamplingSettings(temperature=0.0, max_tokens=4, grammar=lark_grammar('start: "easy" | "hard"', "easy or hard"))
VERDICTS = {"easy": 0.0, "simple": 0.0, "hard": 1.0, "complex": 1.0}


def verdict_of(reply: str) -> float | None:
    """0 for easy, 1 for hard, None when the reply is neither."""
    words = reply.strip().lower().replace(".", " ").split()
    return VERDICTS.get(words[0]) if words else None


def judged(engine: Engine, messages: list[Message], cheap: Complexity) -> Complexity:
    """The cheap score averaged with the local model's verdict on the last user message."""
    asked = next((m for m in reversed(messages) if m.role == "user"), None)
    if asked is None:
        return cheap
    question = f"Request:\n{asked.text[:2000]}\n\nIs this request easy or hard?"
    finished = engine.chat([system(PROMPT), user(question)], ASK, conversation_id=None).result()
    verdict = verdict_of(finished.text) if finished.finish_reason in ("stop", "length") else None
    if verdict is None:
        return cheap
    word = "hard" if verdict else "easy"
    return Complexity(round((cheap.score + verdict) / 2, 2), f"{cheap.reason}, local model says {word}")
