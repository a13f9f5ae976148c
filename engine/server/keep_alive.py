"""Ollama's `keep_alive`: how long a model stays loaded after a request. Seconds as a number, or a Go duration
("5m", "1h30m", "90s"); 0 unloads as soon as the request is answered, a negative value keeps it loaded forever."""

from __future__ import annotations

import re
from typing import Any

from engine.server.errors import ApiError

UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}
PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")


def duration_seconds(text: str) -> float:
    """Seconds in a Go duration string ("1h30m", "-1m", "0"); a bare number is seconds."""
    sign, body = (-1.0, text[1:]) if text.startswith("-") else (1.0, text.removeprefix("+"))
    try:
        return sign * float(body)
    except ValueError:
        pass
    parts = PART.findall(body)
    if not parts or "".join(number + unit for number, unit in parts) != body:
        raise ApiError.invalid(f"keep_alive '{text}' is not a duration like \"5m\", \"30s\" or a number of seconds.",
                               "keep_alive")
    return sign * sum(float(number) * UNITS[unit] for number, unit in parts)


def keep_alive_seconds(value: Any) -> float | None:
    """Seconds to stay loaded; None: forever (a negative value)."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise ApiError.invalid("keep_alive must be a duration string or a number of seconds.", "keep_alive")
    seconds = float(value) if not isinstance(value, str) else duration_seconds(value.strip())
    return None if seconds < 0 else seconds
