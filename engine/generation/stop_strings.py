"""Stop strings (OpenAI's `stop`, Ollama's `options.stop`) found in streamed text.

A stop string can span several tokens, so text that might be the start of one is held back until the
next token settles it: nothing of a stop string is ever shown, and the answer ends just before it.
"""

from __future__ import annotations

from collections.abc import Sequence


class StopStrings:
    def __init__(self, stops: Sequence[str]) -> None:
        self._stops = [stop for stop in stops if stop]
        self._pending = ""
        self.hit = False
        """True once a whole stop string has been seen; later text is dropped."""

    def feed(self, text: str) -> str:
        """The text that can be shown now (up to the stop string, once one completes)."""
        if self.hit:
            return ""
        self._pending += text
        found = [i for i in (self._pending.find(stop) for stop in self._stops) if i >= 0]
        if found:
            self.hit = True
            shown, self._pending = self._pending[: min(found)], ""
            return shown
        keep = self._held_back_length()
        shown = self._pending[: len(self._pending) - keep]
        self._pending = self._pending[len(shown) :]
        return shown

    def flush(self) -> str:
        """At the end of the answer: the held-back text, which turned out not to be a stop string."""
        rest, self._pending = self._pending, ""
        return rest

    def _held_back_length(self) -> int:
        """Length of the longest end of the pending text that a stop string starts with."""
        longest = 0
        for stop in self._stops:
            for n in range(min(len(stop) - 1, len(self._pending)), longest, -1):
                if self._pending.endswith(stop[:n]):
                    longest = n
                    break
        return longest
