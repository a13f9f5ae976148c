"""The request fields that steer a model's thinking -> SamplingSettings.thinking and .reasoning_effort.

`thinking` reaches a template that takes `enable_thinking` (Qwen3, SmolLM3), `reasoning_effort` one that reads
it (gpt-oss); a template that takes neither ignores them, as it always did. Each wire format names them its own
way: Ollama's `think` (a boolean, or an effort for gpt-oss), OpenAI's `reasoning_effort` and the
`chat_template_kwargs` of vLLM and LM Studio, the Responses API's `reasoning.effort`, Anthropic's `thinking`.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.server.errors import ApiError
from engine.server.fields import Fields

EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}
"""OpenAI's effort levels -> the three gpt-oss's template knows."""


@dataclass(frozen=True)
class ReasoningFlags:
    thinking: bool | None = None
    effort: str | None = None

    def applied(self, settings: SamplingSettings) -> SamplingSettings:
        return replace(settings, thinking=self.thinking, reasoning_effort=self.effort)

    def merged(self, other: ReasoningFlags) -> ReasoningFlags:
        """These flags, with `other`'s where it sets one."""
        return ReasoningFlags(self.thinking if other.thinking is None else other.thinking, other.effort or self.effort)


def openai_effort(value: Any, param: str) -> ReasoningFlags:
    """OpenAI's `reasoning_effort` ("none" turns thinking off where the template can)."""
    if value is None:
        return ReasoningFlags()
    if value == "none":
        return ReasoningFlags(thinking=False)
    if value not in EFFORTS:
        raise ApiError.invalid(f"Invalid value for '{param}': '{value}' is not one of none, minimal, low, medium, "
                               "high, xhigh.", param, "invalid_value")
    return ReasoningFlags(effort=EFFORTS[value])


def template_kwargs(fields: Fields) -> ReasoningFlags:
    """vLLM's and LM Studio's `chat_template_kwargs`: `enable_thinking` and `reasoning_effort` are honoured;
    any other is refused, since it could change the prompt in a way this server does not know of."""
    kwargs = fields.nested("chat_template_kwargs")
    other = sorted(kwargs.names() - {"enable_thinking", "reasoning_effort"})
    if other:
        raise ApiError.unsupported(f"chat_template_kwargs.{other[0]}", f"The chat template argument '{other[0]}'")
    effort = openai_effort(kwargs.raw("reasoning_effort"), "chat_template_kwargs.reasoning_effort")
    switch = kwargs.boolean("enable_thinking", False) if kwargs.given("enable_thinking") else None
    return ReasoningFlags(switch, effort.effort)


def openai_flags(fields: Fields) -> ReasoningFlags:
    """Chat completions: `reasoning_effort`, then `chat_template_kwargs` (the more specific) over it."""
    return openai_effort(fields.raw("reasoning_effort"), "reasoning_effort").merged(template_kwargs(fields))


def ollama_think(value: Any) -> ReasoningFlags:
    """Ollama's `think`: true or false, or "low" / "medium" / "high" (gpt-oss), which also means think."""
    if value is None or isinstance(value, bool):
        return ReasoningFlags(thinking=value)
    if value in ("low", "medium", "high"):
        return ReasoningFlags(thinking=True, effort=value)
    raise ApiError.invalid(f'invalid think value: {value!r} (expected true, false, "low", "medium" or "high")', "think")
