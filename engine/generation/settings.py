"""Sampling settings for one answer. Plain data: each backend turns them into its own sampler (engine/backends)."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from engine.structured.grammar import Grammar


@dataclass(frozen=True)
class SamplingSettings:
    temperature: float = 0.7
    top_p: float = 1.0
    min_p: float = 0.0
    top_k: int = 0
    repetition_penalty: float = 1.0
    max_tokens: int = 512
    seed: int | None = None
    presence_penalty: float = 0.0
    frequency_penalty: float = 0.0
    stop: tuple[str, ...] = ()
    """Strings that end the answer when it would contain them; the answer stops just before one."""
    context_length: int | None = None
    """The most tokens the model sees at once, prompt plus answer (None: no limit). See `context_window`."""
    thinking: bool | None = None
    """For a chat template that takes `enable_thinking` (Qwen3, SmolLM3): think first (True) or answer at
    once (False). None leaves the template's default; templates without the switch ignore it."""
    reasoning_effort: str | None = None
    """For a chat template that reads `reasoning_effort` (gpt-oss): "low", "medium" or "high". None leaves the
    template's default; templates that do not read it ignore it."""
    grammar: Grammar | None = None
    """What the answer must look like (engine/structured): sampling is masked so it cannot be anything else."""

    def __post_init__(self) -> None:
        checks = {
            "temperature must be between 0 and 5": 0 <= self.temperature <= 5,
            "top_p must be in (0, 1]": 0 < self.top_p <= 1,
            "min_p must be in [0, 1)": 0 <= self.min_p < 1,
            "top_k must be 0 (off) or more": self.top_k >= 0,
            "repetition_penalty must be between 0.5 and 2": 0.5 <= self.repetition_penalty <= 2,
            "presence_penalty must be between -2 and 2": -2 <= self.presence_penalty <= 2,
            "frequency_penalty must be between -2 and 2": -2 <= self.frequency_penalty <= 2,
            "max_tokens must be at least 1": self.max_tokens >= 1,
            "seed must be between 0 and 2**64 - 1": self.seed is None or 0 <= self.seed < 2**64,
            "context_length must be at least 2": self.context_length is None or self.context_length >= 2,
        }
        problems = [message for message, ok in checks.items() if not ok]
        if problems:
            raise ValueError("; ".join(problems))


def within_hard_limit(settings: SamplingSettings, limit: int | None) -> SamplingSettings:
    """A context length within a backend's hard limit (llama.cpp's fixed KV cache), set even when none was asked."""
    if limit is None or settings.context_length is not None and settings.context_length <= limit:
        return settings
    return replace(settings, context_length=limit)


def within_model_context(settings: SamplingSettings, model_context: int | None) -> SamplingSettings:
    """A context length no longer than the one the model was trained for (its config's max_position_embeddings)."""
    if settings.context_length is None or model_context is None or settings.context_length <= model_context:
        return settings
    return replace(settings, context_length=model_context)
