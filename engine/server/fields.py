"""Typed reads of a JSON request body: every missing, mistyped or out-of-range field is a 400 naming it.

Also what both wire formats (OpenAI, Ollama) read the same way: the seed range, top_p = 0 as greedy.
"""

from __future__ import annotations

from typing import Any

from engine.server.errors import ApiError

MAX_SEED = 2**64 - 1
_JSON_TYPES = {str: "string", bool: "boolean", int: "integer", float: "number", list: "array", dict: "object"}


def greedy_when_top_p_is_zero(temperature: float, top_p: float) -> tuple[float, float]:
    """top_p = 0 keeps only the most likely token: that is greedy decoding (temperature 0)."""
    return (0.0, 1.0) if top_p == 0 else (temperature, top_p)


def _json_type(value: Any) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


class Fields:
    def __init__(self, body: Any, where: str = "") -> None:
        if not isinstance(body, dict):
            what = f"'{where}'" if where else "The request body"
            raise ApiError.invalid(f"{what} must be a JSON object.", where or None)
        self._body = body
        self._where = where

    def names(self) -> set[str]:
        return set(self._body)

    def given(self, name: str) -> bool:
        """True when the field is present and not null (null means "use the default" in both APIs)."""
        return self._body.get(name) is not None

    def raw(self, name: str) -> Any:
        return self._body.get(name)

    def _param(self, name: str) -> str:
        return f"{self._where}.{name}" if self._where else name

    def _typed(self, name: str, kinds: tuple[type, ...], expected: str) -> Any:
        value = self._body.get(name)
        if value is not None and (type(value) not in kinds):
            raise ApiError.invalid(
                f"Invalid type for '{self._param(name)}': expected {expected}, but got {_json_type(value)} instead.",
                self._param(name),
                "invalid_type",
            )
        return value

    def _in_range(self, name: str, value: float, low: float | None, high: float | None) -> None:
        if (low is not None and value < low) or (high is not None and value > high):
            bounds = f"between {low} and {high}" if low is not None and high is not None else (
                f"at least {low}" if low is not None else f"at most {high}")
            raise ApiError.invalid(
                f"Invalid '{self._param(name)}': expected a value {bounds}, but got {value} instead.",
                self._param(name),
                "invalid_value",
            )

    def string(self, name: str, default: str | None = None, *, required: bool = False) -> str | None:
        value = self._typed(name, (str,), "a string")
        if value is None and required:
            raise ApiError.invalid(f"Missing required parameter: '{self._param(name)}'.", self._param(name),
                                   "missing_required_parameter")
        return default if value is None else value

    def boolean(self, name: str, default: bool) -> bool:
        value = self._typed(name, (bool,), "a boolean")
        return default if value is None else value

    def number(self, name: str, default: float, low: float | None = None, high: float | None = None) -> float:
        value = self._typed(name, (int, float), "a number")
        if value is None:
            return default
        self._in_range(name, value, low, high)
        return float(value)

    def integer(self, name: str, default: int | None, low: int | None = None, high: int | None = None) -> int | None:
        value = self._typed(name, (int,), "an integer")
        if value is None:
            return default
        self._in_range(name, value, low, high)
        return value

    def strings(self, name: str, max_items: int | None = None) -> tuple[str, ...]:
        """A string or an array of strings (as `stop` is); () when absent."""
        value = self._typed(name, (str, list), "a string or an array of strings")
        if value is None:
            return ()
        items = [value] if isinstance(value, str) else value
        if not all(isinstance(item, str) for item in items):
            raise ApiError.invalid(f"Invalid type for '{self._param(name)}': expected strings only.", self._param(name),
                                   "invalid_type")
        if max_items is not None and len(items) > max_items:
            raise ApiError.invalid(f"Invalid '{self._param(name)}': at most {max_items} items are allowed.",
                                   self._param(name), "invalid_value")
        return tuple(items)

    def items(self, name: str) -> list[Any]:
        """A required, non-empty array."""
        value = self._typed(name, (list,), "an array")
        if not value:
            raise ApiError.invalid(f"Missing required parameter: '{self._param(name)}' (a non-empty array).",
                                   self._param(name), "missing_required_parameter")
        return value

    def nested(self, name: str) -> Fields:
        """An optional object field ({} when absent)."""
        return Fields(self._body.get(name) or {}, self._param(name))
