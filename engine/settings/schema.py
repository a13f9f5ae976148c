"""The one typed schema of Cabin's settings: every setting's type, default, valid range, section and help text.

The Preferences window is built from these fields, the settings file is checked against them, and
the chat reads them through `Settings.values` as a typed, frozen `Preferences`.
"""

from __future__ import annotations

import dataclasses
import math
import types
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin, get_type_hints

SCHEMA_VERSION = 4
"""Version 1 was the flat file of the first desktop window (no "version" key); 2 groups keys by section;
3 adds hybrid routing's "routing" and "cloud" sections (and never holds an API key: those live in the keychain);
4 adds speculative decoding (each model's draft model, the draft tokens)."""

GB = 1024**3


@dataclass(frozen=True)
class Spec:
    """What the schema knows about one setting, beyond its type and default."""

    section: str
    label: str = ""
    help: str = ""
    minimum: float | None = None
    maximum: float | None = None
    above_minimum: bool = False
    """The minimum itself is not allowed (top-p must be more than 0)."""
    blank: str = ""
    """For optional settings: what an empty value means ("random", "MLX default")."""
    unit: str = ""
    choices: tuple[tuple[Any, str], ...] = ()
    """For settings with a few allowed values: (value, what the user sees) pairs, in the order shown."""
    one_line: bool = False
    """For text settings: a one-line field (a URL, a name) instead of a box for paragraphs."""


def setting(default: Any, section: str, **spec: Any) -> Any:
    metadata = {"spec": Spec(section, **spec)}
    if isinstance(default, dict):
        return dataclasses.field(default_factory=lambda: dict(default), metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Preferences:
    temperature: float = setting(
        0.7, "sampling", label="Temperature", minimum=0, maximum=2,
        help="How adventurous the wording is. 0 always picks the most likely next token (repeatable answers); "
        "higher values pick less likely tokens more often. 0.6–0.8 suits most chats.",
    )
    top_p: float = setting(
        1.0, "sampling", label="Top-p", minimum=0, maximum=1, above_minimum=True,
        help="Nucleus sampling: choose only among the most likely tokens whose probabilities add up to this share. "
        "1 turns it off; 0.9 trims the unlikely tail.",
    )
    min_p: float = setting(
        0.0, "sampling", label="Min-p", minimum=0, maximum=0.99,
        help="Drop tokens less likely than this fraction of the most likely token's probability. "
        "0 turns it off; 0.05 is a common choice with higher temperatures.",
    )
    top_k: int = setting(
        0, "sampling", label="Top-k", minimum=0, maximum=1000,
        help="Choose only among this many most likely tokens. 0 turns it off.",
    )
    repetition_penalty: float = setting(
        1.0, "sampling", label="Repetition penalty", minimum=0.5, maximum=2,
        help="Above 1, tokens already in the recent text become less likely, which curbs loops. "
        "1 turns it off; 1.05–1.15 is usually enough.",
    )
    max_tokens: int = setting(
        2048, "sampling", label="Max tokens", minimum=1, maximum=131072, unit="tokens",
        help="The longest answer, in tokens; an answer that reaches it ends with “length”.",
    )
    seed: int | None = setting(
        None, "sampling", label="Seed", minimum=0, maximum=2**31 - 1, blank="random",
        help="The same seed, settings and conversation give the same answer. Leave empty for a new random choice "
        "each time.",
    )
    presence_penalty: float = setting(
        0.0, "sampling", label="Presence penalty", minimum=-2, maximum=2,
        help="OpenAI-style: above 0, any token already in the answer becomes less likely, nudging the model to new "
        "topics; below 0, more likely. 0 turns it off.",
    )
    frequency_penalty: float = setting(
        0.0, "sampling", label="Frequency penalty", minimum=-2, maximum=2,
        help="OpenAI-style: above 0, tokens become less likely the more often they are already in the answer, "
        "which curbs word-for-word repetition. 0 turns it off.",
    )
    context_length: int = setting(
        8192, "context", label="Context length", minimum=256, maximum=1048576, unit="tokens",
        help="The most tokens the model sees at once: the conversation plus the answer (never more than the model "
        "was trained for). When a conversation grows "
        "past it, its oldest messages are left out of the prompt (the system prompt and your latest message always "
        "stay) and the answer is shortened to fit. Longer contexts use more memory for the KV cache.",
    )
    default_system_prompt: str = setting(
        "", "chat", label="Default system prompt",
        help="Instructions the model gets at the start of every new conversation. Each conversation can change "
        "its own (Conversation ▸ System Prompt…).",
    )
    memory_limit_gb: float | None = setting(
        None, "memory", label="MLX memory limit", minimum=0.25, maximum=4096, blank="MLX default", unit="GB",
        help="mx.set_memory_limit: above this, MLX waits for memory to be freed before allocating more, and "
        "raises an error when it cannot. Empty keeps MLX's default (on a Mac, 1.5× the GPU's recommended "
        "working set). Takes effect at once.",
    )
    cache_limit_gb: float | None = setting(
        None, "memory", label="MLX cache limit", minimum=0, maximum=4096, blank="MLX default", unit="GB",
        help="mx.set_cache_limit: how much freed memory MLX keeps for reuse instead of returning it to the system. "
        "0 turns the cache off (lower memory, slower); empty keeps MLX's default. Takes effect at once.",
    )
    kv_cache_bits: int | None = setting(
        None, "kv_cache", label="KV cache", blank="full precision",
        choices=((None, "Full precision (16-bit)"), (8, "8-bit"), (4, "4-bit")),
        help="How the model keeps the conversation it has read (its KV cache): quantized with mlx_lm's quantized "
        "cache, 8-bit takes about half the memory with answers nearly unchanged, 4-bit about a quarter but small "
        "models may answer differently. The fit check counts it. Applies the next time a model is loaded. MLX models "
        "only: a GGUF model run as it is on llama.cpp keeps its KV cache at full precision.",
    )
    upcast_on_cpu: bool = setting(
        True, "compute", label="Run 4-bit and 16-bit models in float32 on the CPU",
        help="On MLX's CPU backend (Linux), float32 matrix products are many times faster than 4-bit or 16-bit "
        "ones, so models are converted once, at load, when memory allows. The answers are the same model's. "
        "No effect on a Mac's GPU. Applies the next time a model is loaded.",
    )
    num_draft_tokens: int = setting(
        3, "speculative", label="Draft tokens", minimum=1, maximum=16, unit="tokens",
        help="Speculative decoding: how many tokens a model's draft model proposes at a time; the model checks them "
        "all in one pass and keeps those it would have written itself. More pays off when the draft is often right. "
        "Applies the next time a model with a draft is loaded.",
    )
    draft_models: dict[str, str] = setting(
        {}, "drafts", label="Draft models",
        help="Speculative decoding: for a model (its key), the smaller MLX model with the same tokenizer that drafts "
        "its answers. The answers stay the model's own; they come faster when the draft is cheap and often right. "
        "Set in the Models pane (Draft Model…) or in Preferences.",
    )
    api_port: int = setting(
        11434, "server", label="Port", minimum=0, maximum=65535,
        help="Where the local API (File ▸ Serve Local API) listens, on this computer only: "
        "http://127.0.0.1:<port>. 11434 is Ollama's port, so Ollama clients find Cabin; 0 picks a free port. "
        "Used the next time the server starts.",
    )
    prompt_cache_disk_mb: int = setting(
        2048, "cache_files", label="Prompt caches on disk", minimum=0, maximum=1048576, unit="MB",
        help="A conversation's prompt cache (the model's keys and values for everything said so far) is saved "
        "beside the history, so that reopening a long chat after a restart answers almost as fast as before it. "
        "When the files need more space than this, the ones used longest ago are deleted. MLX models only; "
        "0 turns it off and deletes the files. Takes effect at once.",
    )
    offline: bool = setting(
        False, "routing", label="Offline: never use the cloud",
        help="Every answer comes from the local model and Cabin opens no connection to a cloud provider, whatever "
        "a conversation's mode says. HF_HUB_OFFLINE=1 in the environment does the same.",
    )
    route_default: str = setting(
        "local", "routing", label="New conversations",
        choices=(("local", "Local only"), ("auto", "Auto (local or cloud per request)"), ("cloud", "Cloud")),
        help="Who answers in a new conversation; each conversation can change its own beside the composer. "
        "Local only never sends anything off this computer; a private conversation never does, whatever is chosen.",
    )
    route_threshold: float = setting(
        0.6, "routing", label="Cloud above score", minimum=0, maximum=1,
        help="In Auto, a request whose complexity score (length, code, maths, multi-step instructions, "
        "attachments) reaches this goes to the cloud; below it the local model answers. Lower sends more out.",
    )
    route_judge: bool = setting(
        False, "routing", label="Ask the local model to judge too",
        help="In Auto, the local model also rates each request easy or hard (a few tokens, before answering), "
        "averaged with the score. Small models judge poorly.",
    )
    cloud_kind: str = setting(
        "openai", "cloud", label="API",
        choices=(("openai", "OpenAI-compatible chat completions"), ("anthropic", "Anthropic Messages")),
        help="The provider's wire format: OpenAI-compatible (OpenAI, OpenRouter, Groq, Mistral, vLLM, a local "
        "server...) or Anthropic's Messages API.",
    )
    cloud_base_url: str = setting(
        "", "cloud", label="Base URL", one_line=True, blank="the API's own: api.openai.com/v1 or api.anthropic.com",
        help="Where the API lives, e.g. https://api.openai.com/v1 or https://openrouter.ai/api/v1. Empty: the "
        "API's own (api.openai.com/v1, api.anthropic.com).",
    )
    cloud_model: str = setting(
        "", "cloud", label="Model", one_line=True, blank="none: no cloud model set up",
        help="The provider's model name (gpt-4o-mini, claude-sonnet-4-5...). Empty: no cloud provider is set up.",
    )
    cloud_input_cost: float = setting(
        0.0, "cloud", label="Price of prompt tokens", minimum=0, maximum=1000, unit="$ per million",
        help="For the cost estimate in the Performance view: what the provider charges per million prompt tokens.",
    )
    cloud_output_cost: float = setting(
        0.0, "cloud", label="Price of answer tokens", minimum=0, maximum=1000, unit="$ per million",
        help="For the cost estimate: what the provider charges per million answer tokens.",
    )
    cloud_timeout: float = setting(
        30.0, "cloud", label="Timeout", minimum=1, maximum=600, unit="s",
        help="How long to wait to connect and for each piece of the answer before the local model takes over.",
    )
    api_server: bool = setting(False, "window")
    """Whether the local API was on when the app closed (File ▸ Serve Local API switches it)."""
    last_model: str | None = setting(None, "window")
    window_geometry: str | None = setting(None, "window")
    splitter_state: str | None = setting(None, "window")


FIELDS: dict[str, dataclasses.Field] = {f.name: f for f in dataclasses.fields(Preferences)}
DEFAULTS = Preferences()
_TYPES = get_type_hints(Preferences)


def spec(key: str) -> Spec:
    return FIELDS[key].metadata["spec"]


def section_keys(section: str) -> list[str]:
    return [key for key in FIELDS if spec(key).section == section]


def value_type(key: str) -> tuple[type, bool]:
    """(the setting's value type, whether None is allowed)."""
    hint = _TYPES[key]
    if get_origin(hint) is dict:
        return dict, False
    if get_origin(hint) in (Union, types.UnionType):
        (inner,) = (arg for arg in get_args(hint) if arg is not type(None))
        return inner, True
    return hint, False


class SettingError(ValueError):
    """A value a setting cannot take; the message names the setting and says what it accepts."""


def _range_text(s: Spec) -> str:
    low = f"more than {s.minimum:g}" if s.above_minimum else f"at least {s.minimum:g}"
    if s.maximum is None:
        return low
    if s.above_minimum:
        return f"{low} and at most {s.maximum:g}"
    return f"between {s.minimum:g} and {s.maximum:g}"


def _check_range(key: str, value: float) -> None:
    s = spec(key)
    if s.minimum is None:
        return
    too_low = value <= s.minimum if s.above_minimum else value < s.minimum
    too_high = s.maximum is not None and value > s.maximum
    if too_low or too_high or not math.isfinite(value):
        raise SettingError(f"{s.label or key} must be {_range_text(s)}")


def check(key: str, value: Any) -> Any:
    """`value` as the setting's type, or SettingError; ints are accepted for float settings."""
    if key not in FIELDS:
        return value
    kind, optional = value_type(key)
    if value is None:
        if optional:
            _check_choice(key, None)
            return None
        raise SettingError(f"{spec(key).label or key} needs a value")
    wrong = isinstance(value, bool) != (kind is bool) or not isinstance(value, (int, float) if kind is float else kind)
    if wrong:
        raise SettingError(f"{spec(key).label or key} must be {_kind_text(kind)}, not {value!r}")
    if kind is dict:
        return _checked_names(key, value)
    value = kind(value)
    if kind in (int, float):
        _check_range(key, value)
    _check_choice(key, value)
    return value


def _check_choice(key: str, value: Any) -> None:
    s = spec(key)
    if s.choices and value not in (choice for choice, _label in s.choices):
        raise SettingError(f"{s.label or key} must be one of: {', '.join(label for _, label in s.choices)}")


def _checked_names(key: str, value: dict) -> dict[str, str]:
    """A table of names (model → its draft model): text to text, none empty."""
    if not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in value.items()):
        raise SettingError(f"{spec(key).label or key} must map model names to model names")
    return dict(value)


def _kind_text(kind: type) -> str:
    return {int: "a whole number", float: "a number", bool: "on or off", str: "text", dict: "a table"}[kind]


def parse(key: str, text: str) -> Any:
    """A value typed by the user: blank gives None for optional settings; numbers may use a decimal comma."""
    kind, optional = value_type(key)
    text = text.strip()
    if not text and optional:
        return None
    if kind is str:
        return check(key, text)
    try:
        number = float(text.replace(",", ".")) if kind is float else int(text)
    except ValueError:
        raise SettingError(f"{spec(key).label or key} must be {_kind_text(kind)}, not “{text}”") from None
    return check(key, number)


def to_text(key: str, value: Any) -> str:
    if value is None:
        return ""
    return f"{value:g}" if isinstance(value, float) else str(value)
