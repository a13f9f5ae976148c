"""One cloud answer as it streams: its text, token counts, timing and cost, told as the engine's own events.

The window and the local API read a cloud answer exactly as they read a local one (`Token` events with
`Stats`, then `Finished`); the token ids are -1 (a cloud model's ids mean nothing here). Until the provider
reports its counts, each streamed piece counts as one token.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from engine.cloud.pieces import Delta, Done, Piece, Usage
from engine.cloud.provider import Provider
from engine.generation import Stats

NO_TOKEN_ID = -1


@dataclass(frozen=True)
class CloudUsage:
    """What an answer is stored with when (some of) it came from the cloud."""

    provider: str
    model: str
    input_tokens: int
    output_tokens: int
    cost: float
    """Estimated US dollars, from the prices in Preferences."""


class CloudAnswer:
    def __init__(self, provider: Provider) -> None:
        self.provider = provider
        self.text = ""
        self.finish_reason = "stop"
        self._pieces = 0
        self._input: int | None = None
        self._output: int | None = None
        self._started = time.perf_counter()
        self._first: float | None = None

    def take(self, piece: Piece) -> str:
        """Read one piece; the text it adds ("" for counts and the end)."""
        if isinstance(piece, Usage):
            self._input = piece.input_tokens if piece.input_tokens is not None else self._input
            self._output = piece.output_tokens if piece.output_tokens is not None else self._output
        elif isinstance(piece, Done):
            self.finish_reason = piece.finish_reason
        elif isinstance(piece, Delta):
            self._first = self._first or time.perf_counter()
            self._pieces += 1
            self.text += piece.text
            return piece.text
        return ""

    @property
    def output_tokens(self) -> int:
        return self._output if self._output is not None else self._pieces

    def stats(self) -> Stats:
        prompt = self._input or 0
        ttft = (self._first - self._started) if self._first else 0.0
        writing = time.perf_counter() - (self._first or self._started)
        tps = (self.output_tokens - 1) / writing if self.output_tokens > 1 and writing > 0 else 0.0
        return Stats(prompt, prompt, 0.0, self.output_tokens, tps, ttft, 0)

    def usage(self) -> CloudUsage:
        prompt = self._input or 0
        cost = self.provider.cost(prompt, self.output_tokens)
        return CloudUsage(self.provider.name, self.provider.model, prompt, self.output_tokens, cost)
