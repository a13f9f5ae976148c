"""How model facts read: parameter counts and last-used times."""

from __future__ import annotations

import pytest

from engine.models.text import format_ago, format_count


@pytest.mark.parametrize(("n", "text"), [(999, "999"), (139_584, "140K"), (1_540_000_000, "1.5B"), (70_600_000_000, "70.6B"),
                                         (123_000_000_000, "123B")])  # fmt: skip
def test_parameter_counts_read_like_model_names(n: int, text: str) -> None:
    assert format_count(n) == text


@pytest.mark.parametrize(("seconds", "text"), [(5, "just now"), (60, "1 minute ago"), (7200, "2 hours ago"), (86400 * 3, "3 days ago")])
def test_last_used_reads_as_time_ago(seconds: int, text: str) -> None:
    assert format_ago(1_000_000 - seconds, now=1_000_000) == text


def test_a_model_never_used_says_never() -> None:
    assert format_ago(None) == "never"
