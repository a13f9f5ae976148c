"""What the engine is doing, for a performance view: the answer in progress and the recent ones.

The worker replaces the one `Activity` value after each token (a single reference swap), so any thread
can read it without locks and without touching MLX.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

from engine.generation.events import Event, Finished, FinishReason, Stats

RECENT_ANSWERS = 50


@dataclass(frozen=True)
class AnswerRecord:
    stats: Stats
    finish_reason: FinishReason
    finished_at: float
    """time.time() when it ended."""


@dataclass(frozen=True)
class Activity:
    generating: bool = False
    live: Stats | None = None
    """The answer in progress, as of its latest token."""
    recent: tuple[AnswerRecord, ...] = ()
    """Finished answers, oldest first, at most RECENT_ANSWERS."""
    answers: int = 0
    """Answers finished since the engine started (grows past RECENT_ANSWERS)."""


def started(activity: Activity) -> Activity:
    return replace(activity, generating=True, live=None)


def after(activity: Activity, event: Event) -> Activity:
    """The activity once `event` of the answer in progress has been emitted."""
    if not isinstance(event, Finished):
        return replace(activity, live=event.stats)
    record = AnswerRecord(event.stats, event.finish_reason, time.time())
    return Activity(False, None, (*activity.recent, record)[-RECENT_ANSWERS:], activity.answers + 1)
