"""The settings schema: every setting is documented, and values typed by a user are parsed or refused clearly."""

from __future__ import annotations

import pytest

from engine.settings.schema import DEFAULTS, FIELDS, SettingError, check, parse, spec, to_text

USER_FACING = [key for key in FIELDS if spec(key).section != "window"]


@pytest.mark.parametrize("key", USER_FACING)
def test_every_user_facing_setting_has_a_label_and_help(key: str) -> None:
    assert spec(key).label and len(spec(key).help) > 20


@pytest.mark.parametrize("key", list(FIELDS))
def test_every_default_passes_its_own_checks(key: str) -> None:
    assert check(key, getattr(DEFAULTS, key)) == getattr(DEFAULTS, key)


def test_numbers_typed_with_a_decimal_comma_are_read() -> None:
    assert parse("temperature", "0,5") == 0.5


def test_blank_means_none_for_optional_settings() -> None:
    assert parse("seed", "  ") is None and parse("memory_limit_gb", "") is None


def test_a_blank_required_number_is_refused() -> None:
    with pytest.raises(SettingError, match="Max tokens must be a whole number"):
        parse("max_tokens", "")


def test_text_that_is_not_a_number_is_refused_with_the_setting_name() -> None:
    with pytest.raises(SettingError, match="Temperature must be a number, not “warm”"):
        parse("temperature", "warm")


def test_an_exclusive_minimum_is_said_so() -> None:
    with pytest.raises(SettingError, match="Top-p must be more than 0 and at most 1"):
        parse("top_p", "0")


def test_a_float_is_not_a_whole_number() -> None:
    with pytest.raises(SettingError, match="whole number"):
        check("max_tokens", 10.5)


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(SettingError):
        check("max_tokens", True)


def test_not_a_number_is_out_of_range() -> None:
    with pytest.raises(SettingError):
        parse("temperature", "nan")


def test_values_are_written_back_as_short_text() -> None:
    assert (to_text("temperature", 0.7), to_text("max_tokens", 2048), to_text("seed", None)) == ("0.7", "2048", "")
