"""Which cloud model answers: its wire format, endpoint, model name and prices, read from the settings.

The API key is not here: it lives in the OS keychain (keys.py), looked up by `Provider.account`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from engine.settings.schema import Preferences

Kind = Literal["openai", "anthropic"]
KINDS: tuple[Kind, ...] = ("openai", "anthropic")
DEFAULT_URLS: dict[str, str] = {"openai": "https://api.openai.com/v1", "anthropic": "https://api.anthropic.com"}
KIND_NAMES: dict[str, str] = {"openai": "OpenAI-compatible", "anthropic": "Anthropic"}


@dataclass(frozen=True)
class Provider:
    kind: Kind
    base_url: str
    model: str
    input_cost: float = 0.0
    """US dollars per million prompt tokens (for the cost estimate)."""
    output_cost: float = 0.0
    """US dollars per million answer tokens."""
    timeout: float = 30.0
    """Seconds to connect, and to wait for each piece of the answer."""

    @property
    def url(self) -> str:
        return (self.base_url or DEFAULT_URLS[self.kind]).rstrip("/")

    @property
    def host(self) -> str:
        return urlsplit(self.url).netloc or self.url

    @property
    def name(self) -> str:
        """What an answer is stored with as its provider: "Anthropic (api.anthropic.com)"."""
        return f"{KIND_NAMES[self.kind]} ({self.host})"

    @property
    def account(self) -> str:
        """The keychain entry's user name: one key per endpoint."""
        return f"{self.kind}:{self.url}"

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """Estimated US dollars for one answer."""
        return (input_tokens * self.input_cost + output_tokens * self.output_cost) / 1_000_000


def provider_from(values: Preferences) -> Provider | None:
    """The provider the settings describe; None until a model name is set."""
    model = values.cloud_model.strip()
    if not model:
        return None
    return Provider(
        kind="anthropic" if values.cloud_kind == "anthropic" else "openai",
        base_url=values.cloud_base_url.strip(),
        model=model,
        input_cost=values.cloud_input_cost,
        output_cost=values.cloud_output_cost,
        timeout=values.cloud_timeout,
    )
