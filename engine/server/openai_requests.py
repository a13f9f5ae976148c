"""OpenAI request bodies -> what the engine needs, refusing what this server cannot honour.

Fields that change the answer and are not supported (n > 1, logprobs, logit_bias...) are refused
with a 400 naming them; fields that only describe the caller (user, metadata, store...) are ignored,
as OpenAI's own API ignores them for models they do not apply to. Unknown fields are refused, as
OpenAI does ("Unrecognized request argument supplied").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from engine.generation import SamplingSettings
from engine.messages import Message
from engine.server.errors import ApiError
from engine.server.fields import MAX_SEED, Fields, greedy_when_top_p_is_zero
from engine.server.openai_messages import chat_messages
from engine.server.output_format import openai_response_format
from engine.server.reasoning_flags import openai_flags
from engine.server.tool_requests import openai_tool_choice
from engine.tools.choice import ToolChoice

SAMPLING_FIELDS = {
    "temperature", "top_p", "max_tokens", "seed", "stop", "presence_penalty", "frequency_penalty", "n",
    "logprobs", "top_logprobs", "logit_bias", "stream", "stream_options", "model",
    # Common extensions (vLLM, mlx_lm.server, LM Studio) that this engine honours.
    "top_k", "min_p", "repetition_penalty",
}
IGNORED_FIELDS = {
    "user", "metadata", "store", "service_tier", "parallel_tool_calls", "prompt_cache_key", "safety_identifier",
    "prediction", "verbosity",
}
CHAT_FIELDS = SAMPLING_FIELDS | IGNORED_FIELDS | {
    "messages", "max_completion_tokens", "tools", "tool_choice", "functions", "function_call", "response_format",
    "modalities", "audio", "reasoning_effort", "chat_template_kwargs",
}
COMPLETION_FIELDS = SAMPLING_FIELDS | IGNORED_FIELDS | {"prompt", "echo", "suffix", "best_of"}


@dataclass(frozen=True)
class GenerationRequest:
    model: str
    settings: SamplingSettings
    stream: bool
    include_usage: bool


@dataclass(frozen=True)
class ChatRequest(GenerationRequest):
    messages: list[Message]
    tools: ToolChoice | None = None


@dataclass(frozen=True)
class CompletionRequest(GenerationRequest):
    prompt: str
    echo: bool


def refuse_unknown(fields: Fields, known: set[str]) -> None:
    unknown = sorted(fields.names() - known)
    if unknown:
        raise ApiError.invalid(f"Unrecognized request argument supplied: {unknown[0]}", unknown[0], "unknown_parameter")


def refuse_unsupported(fields: Fields) -> None:
    """Fields whose effect this server cannot produce: refusing beats answering something else."""
    if fields.integer("n", 1, 1) != 1:
        raise ApiError.unsupported("n", "More than one choice per request (n > 1)")
    if fields.raw("logprobs") not in (None, False) or fields.given("top_logprobs"):
        raise ApiError.unsupported("logprobs", "Returning log probabilities (logprobs)")
    if fields.raw("logit_bias"):
        raise ApiError.unsupported("logit_bias", "logit_bias")


def sampling_settings(fields: Fields, default_max_tokens: int, max_tokens: int | None) -> SamplingSettings:
    temperature, top_p = greedy_when_top_p_is_zero(
        fields.number("temperature", 1.0, 0, 2), fields.number("top_p", 1.0, 0, 1)
    )
    try:
        return SamplingSettings(
            temperature=temperature,
            top_p=top_p,
            top_k=fields.integer("top_k", 0, 0),
            min_p=fields.number("min_p", 0.0, 0, 1),
            repetition_penalty=fields.number("repetition_penalty", 1.0),
            presence_penalty=fields.number("presence_penalty", 0.0, -2, 2),
            frequency_penalty=fields.number("frequency_penalty", 0.0, -2, 2),
            max_tokens=max_tokens or default_max_tokens,
            seed=fields.integer("seed", None, 0, MAX_SEED),
            stop=fields.strings("stop", max_items=4),
        )
    except ValueError as e:
        raise ApiError.invalid(f"Invalid sampling settings: {e}.") from None


def streaming(fields: Fields) -> tuple[bool, bool]:
    """(stream, include_usage)."""
    stream = fields.boolean("stream", False)
    options = fields.nested("stream_options")
    if options.names() and not stream:
        raise ApiError.invalid("The 'stream_options' parameter is only allowed when 'stream' is enabled.",
                               "stream_options")
    return stream, options.boolean("include_usage", False)


def refuse_chat_extras(fields: Fields) -> None:
    if fields.raw("functions") or fields.raw("function_call") not in (None, "none"):
        raise ApiError.unsupported("functions", "Function calling with the deprecated 'functions' (use 'tools')")
    if fields.raw("modalities") not in (None, ["text"]) or fields.given("audio"):
        raise ApiError.unsupported("modalities", "Output other than text")


def parse_chat(body: Any, default_max_tokens: int) -> ChatRequest:
    fields = Fields(body)
    refuse_unknown(fields, CHAT_FIELDS)
    model = fields.string("model", required=True)
    messages = chat_messages(fields)
    refuse_unsupported(fields)
    refuse_chat_extras(fields)
    max_tokens = fields.integer("max_completion_tokens", None, 1) or fields.integer("max_tokens", None, 1)
    stream, include_usage = streaming(fields)
    settings = replace(openai_flags(fields).applied(sampling_settings(fields, default_max_tokens, max_tokens)),
                       grammar=openai_response_format(fields))
    return ChatRequest(model, settings, stream, include_usage, messages, openai_tool_choice(fields))


def completion_prompt(fields: Fields) -> str:
    """One prompt string (or an array holding exactly one): batches and token arrays are refused."""
    prompt = fields.raw("prompt")
    if isinstance(prompt, list) and len(prompt) == 1 and isinstance(prompt[0], str):
        return prompt[0]
    if isinstance(prompt, list) and prompt and all(isinstance(item, str) for item in prompt):
        raise ApiError.unsupported("prompt", "More than one prompt per request")
    if isinstance(prompt, list):
        raise ApiError.unsupported("prompt", "A prompt given as token ids")
    return fields.string("prompt", required=True)


def parse_completion(body: Any, default_max_tokens: int = 16) -> CompletionRequest:
    """OpenAI's /v1/completions; its documented default for max_tokens is 16."""
    fields = Fields(body)
    refuse_unknown(fields, COMPLETION_FIELDS)
    model = fields.string("model", required=True)
    prompt = completion_prompt(fields)
    refuse_unsupported(fields)
    if fields.given("suffix"):
        raise ApiError.unsupported("suffix", "Insertion with a suffix")
    if fields.integer("best_of", 1, 1) != 1:
        raise ApiError.unsupported("best_of", "best_of > 1")
    stream, include_usage = streaming(fields)
    settings = sampling_settings(fields, default_max_tokens, fields.integer("max_tokens", None, 1))
    return CompletionRequest(model, settings, stream, include_usage, prompt, fields.boolean("echo", False))
