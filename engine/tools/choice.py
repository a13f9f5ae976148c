"""The tools a request offers and its `tool_choice`, as plain data the engine and the server share."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

Mode = Literal["auto", "none", "required", "named"]


@dataclass(frozen=True)
class ToolChoice:
    tools: tuple[dict[str, Any], ...]
    """OpenAI's shape, which Hugging Face chat templates read: {"type": "function", "function": {...}}."""
    mode: Mode = "auto"
    name: str | None = None
    """The function a "named" choice forces."""

    @property
    def offered(self) -> bool:
        """Tools go into the prompt and calls are read back ("none" leaves them out, as if none were given)."""
        return bool(self.tools) and self.mode != "none"

    @property
    def forced(self) -> bool:
        return self.offered and self.mode in ("required", "named")

    def functions(self) -> list[dict[str, Any]]:
        """The functions a call may name: all of them, or the one a named choice forces."""
        functions = [tool["function"] for tool in self.tools]
        return [f for f in functions if f["name"] == self.name] if self.mode == "named" else functions
