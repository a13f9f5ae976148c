"""A backend whose answers are scripted: the real MLX backend of a loaded model (its tokenizer, template and KV
cache), but each answer is the next scripted text instead of sampled tokens. For tests that need a model to
say something exact (a tool call, then an answer using its result) through the real engine and server."""

from __future__ import annotations

from collections.abc import Iterator
from threading import Event as StopFlag
from typing import Any

import mlx.core as mx

from engine.backends.base import Backend, Step
from engine.generation.settings import SamplingSettings


class ScriptedBackend:
    batchable = False
    """Its answers are scripted one by one: they never run in a batch."""

    def __init__(self, real: Backend) -> None:
        self._real = real
        self.replies: list[str] = []
        """Answers still to give, in order."""
        self.prompts: list[str] = []
        """The prompt text each answer was given to prefill (the part not already in the prompt cache)."""

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real, name)

    def generate(self, prompt: list[int], kv: Any, settings: SamplingSettings, stop: StopFlag) -> Iterator[Step]:
        tokenizer = self._real.tokenizer
        self.prompts.append(tokenizer.decode(prompt))
        ids = tokenizer.encode(self.replies.pop(0), add_special_tokens=False)
        # The cache holds what the model read: the prompt and every answer token but the final EOS.
        mx.eval(self._real.model(mx.array([prompt + ids]), cache=kv))
        texts = [tokenizer.decode(ids[: i + 1]) for i in range(len(ids))]
        pieces = [text[len(before):] for before, text in zip([""] + texts, texts)]
        steps = [Step(token, piece, None, 1.0, i + 1, 1.0, 0) for i, (token, piece) in enumerate(zip(ids, pieces))]
        yield from [*steps, Step(tokenizer.eos_token_id, "", "stop", 1.0, len(ids) + 1, 1.0, 0)]
