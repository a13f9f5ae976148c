"""How model facts read in the CLI and the app: parameter counts and how long ago."""

from __future__ import annotations

import time


def format_count(n: int) -> str:
    """139584 -> '140K', 7_620_000_000 -> '7.6B'."""
    for unit, size in (("B", 1e9), ("M", 1e6), ("K", 1e3)):
        if n >= size:
            return f"{n / size:.1f}{unit}" if n < 100 * size else f"{n / size:.0f}{unit}"
    return str(n)


def format_ago(timestamp: float | None, now: float | None = None) -> str:
    """'never', 'just now', '1 minute ago', '3 days ago'."""
    if not timestamp:
        return "never"
    seconds = (now or time.time()) - timestamp
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            n = int(seconds // size)
            return f"{n} {unit}{'s' * (n != 1)} ago"
    return "just now"
