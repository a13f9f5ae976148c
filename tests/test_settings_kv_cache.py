"""The KV-cache setting: full precision (None) unless chosen, 8 or 4 bits, kept in settings.json; older files get the
default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.settings.file import Settings
from engine.settings.schema import SettingError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


def test_the_kv_cache_is_full_precision_by_default(path: Path) -> None:
    assert Settings(path).values.kv_cache_bits is None


def test_the_chosen_bits_round_trip_through_the_file(path: Path) -> None:
    Settings(path).set("kv_cache_bits", 4)
    assert json.loads(path.read_text())["kv_cache"] == {"kv_cache_bits": 4}
    assert Settings(path).values.kv_cache_bits == 4


def test_bits_the_cache_does_not_offer_are_refused(path: Path) -> None:
    with pytest.raises(SettingError, match="KV cache must be one of: Full precision"):
        Settings(path).set("kv_cache_bits", 6)


def test_a_first_format_file_migrates_with_a_full_precision_cache(path: Path) -> None:
    path.write_text(json.dumps({"temperature": 0.3, "memory_limit_gb": 8.0}))
    settings = Settings(path)
    assert (settings.values.temperature, settings.values.kv_cache_bits) == (0.3, None)
    assert settings.warnings == []


def test_a_file_from_before_the_setting_keeps_its_values_and_gets_full_precision(path: Path) -> None:
    path.write_text(json.dumps({"version": 2, "memory": {"cache_limit_gb": 1.0}}))
    settings = Settings(path)
    assert (settings.values.cache_limit_gb, settings.values.kv_cache_bits) == (1.0, None)
    assert settings.warnings == []


def test_a_hand_edited_bad_value_falls_back_to_full_precision_with_a_warning(path: Path) -> None:
    path.write_text(json.dumps({"version": 2, "kv_cache": {"kv_cache_bits": 3}}))
    settings = Settings(path)
    assert settings.values.kv_cache_bits is None
    assert "KV cache must be one of" in settings.warnings[0]
