"""When answers run together in a batch, and what the batch reports (requests running, tok/s, KV memory).

Speculative decoding and batching do not mix in mlx_lm (its BatchGenerator takes no draft model). The rule: an
answer that starts alone runs alone, with the draft model when one is set; answers that run together batch, and
the draft model waits (`paused_note` says so) until an answer runs alone again.
"""

from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field

DECODE_BATCH = 32
"""Answers decoded together at most (mlx_lm's server default); more wait for a place."""
RATE_WINDOW = 2.0
"""Seconds of tokens the batch's aggregate tok/s is measured over."""


@dataclass
class BatchPolicy:
    """Set from any thread; read by the worker before each answer starts."""

    enabled: bool = True
    """False: every answer runs alone, one after the other (as on llama.cpp)."""
    draft_model: bool = False
    """True when the loaded model has a draft model (the worker sets it as each batch may start). A lone answer
    then runs alone, with its draft; answers that arrive together still batch, without the draft."""

    def batches(self, seeded: bool, others_waiting: bool) -> bool:
        """Whether an answer starting now runs in a batch. A seeded answer runs alone: the batch shares one random
        stream, so its sampling could not be reproduced."""
        if not self.enabled or seeded:
            return False
        return others_waiting or not self.draft_model

    def paused_note(self, running: int) -> str | None:
        """What to say about the draft model while `running` answers are batched (None: nothing is paused)."""
        if self.draft_model and running > 1:
            return f"speculative decoding paused: {running} requests batched"
        return None


@dataclass(frozen=True)
class BatchStatus:
    """The batch as of the worker's last step: plain values, read from any thread."""

    running: int = 0
    """Answers in the batch (decoding, or prefilling their prompt)."""
    tokens_per_second: float = 0.0
    """Tokens the whole batch generated per second, over the last RATE_WINDOW seconds."""
    kv_bytes: int = 0
    """Bytes of the batch's KV caches."""
    note: str | None = None
    """E.g. "speculative decoding paused: 3 requests batched"."""


@dataclass
class TokenRate:
    """Tokens per second over a sliding window of steps."""

    window: float = RATE_WINDOW
    _steps: deque[tuple[float, int]] = field(default_factory=deque)

    def add(self, tokens: int, now: float | None = None) -> float:
        now = time.perf_counter() if now is None else now
        self._steps.append((now, tokens))
        while self._steps and now - self._steps[0][0] > self.window:
            self._steps.popleft()
        span = now - self._steps[0][0]
        counted = sum(n for _, n in self._steps) - self._steps[0][1]
        return counted / span if span > 0 else 0.0
