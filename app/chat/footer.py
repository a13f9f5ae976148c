"""The line under an answer: its tokens, speed and time to first token, and why it ended if it was cut short."""

from __future__ import annotations

from engine.conversations.model import INTERRUPTED, StoredMessage
from engine.generation import Stats

REASONS = {
    "cancelled": "stopped",
    "length": "reached the length limit",
    INTERRUPTED: "interrupted (the app closed mid-answer)",
}


def stats_text(tokens: int, tps: float, ttft: float) -> str:
    return f"{tokens} tokens · {tps:.1f} tok/s · TTFT {ttft * 1000:.0f} ms"


def footer_text(message: StoredMessage) -> str:
    """'128 tokens · 45.3 tok/s · TTFT 120 ms · stopped' for an answer; '' for a question. A routed answer
    starts with its route ('Cloud: long multi-step request, score 0.71 · 128 tokens ...')."""
    if message.role != "assistant":
        return ""
    parts = [message.route] if message.route else []
    if message.generated_tokens:
        parts.append(stats_text(message.generated_tokens, message.generation_tps, message.ttft))
    if message.finish_reason in REASONS:
        parts.append(REASONS[message.finish_reason])
    if message.error:
        parts.append(message.error)
    return " · ".join(parts)


def draft_text(stats: Stats | None) -> str:
    """What the draft model did (speculative decoding): "draft 41/54 accepted (76%), ≈1.40× vs without", or why it
    did not run; '' when the model has no draft."""
    if stats is None or stats.draft is None:
        return ""
    return stats.draft.describe(stats.generation_tps)


def batch_text(stats: Stats | None) -> str:
    """"in a batch of 4" while other answers (API clients) share the model's steps with this one; '' alone."""
    if stats is None or stats.batched <= 1:
        return ""
    return f"in a batch of {stats.batched}"


def run_notes(stats: Stats | None) -> str:
    """How this session ran the answer (draft model, batch), shown after its figures; not kept in the history."""
    return " · ".join(filter(None, [batch_text(stats), draft_text(stats)]))


def live_footer_text(stats: Stats | None) -> str:
    if stats is None:
        return "Thinking…"
    line = "Writing… " + stats_text(stats.generated_tokens, stats.generation_tps, stats.ttft)
    return " · ".join(filter(None, [line, run_notes(stats)]))
