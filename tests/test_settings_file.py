"""The settings file: typed values, persistence, migration of the first format, and bad files kept aside."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from engine.settings.file import Settings
from engine.settings.schema import SCHEMA_VERSION, SettingError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


def kept_files(path: Path) -> list[Path]:
    return sorted(p for p in path.parent.iterdir() if p != path)


def test_a_missing_file_gives_the_defaults_without_warnings(path: Path) -> None:
    settings = Settings(path)
    assert settings.values.temperature == 0.7 and settings.values.seed is None and settings.warnings == []


def test_values_persist_across_restarts(path: Path) -> None:
    Settings(path).update({"temperature": 0.2, "seed": 42, "memory_limit_gb": 8.0})
    values = Settings(path).values
    assert (values.temperature, values.seed, values.memory_limit_gb) == (0.2, 42, 8.0)


def test_the_file_has_a_version_and_sections(path: Path) -> None:
    Settings(path).set("top_p", 0.9)
    data = json.loads(path.read_text())
    assert data["version"] == SCHEMA_VERSION and data["sampling"]["top_p"] == 0.9


def test_an_invalid_value_is_refused_and_nothing_changes(path: Path) -> None:
    settings = Settings(path)
    settings.set("max_tokens", 100)
    with pytest.raises(SettingError, match="Temperature must be between 0 and 2"):
        settings.update({"max_tokens": 200, "temperature": 7.0})
    assert Settings(path).values.max_tokens == 100 and settings.values.temperature == 0.7


def test_a_corrupt_file_falls_back_to_defaults_and_is_kept_aside(path: Path) -> None:
    path.write_text('{"version": 2, "sampling": {"temperature": 0.1')
    settings = Settings(path)
    assert settings.values.temperature == 0.7
    assert "could not be read" in settings.warnings[0]
    (kept,) = kept_files(path)
    assert kept.read_text().startswith('{"version": 2') and kept.name in settings.warnings[0]


def test_saving_after_a_corrupt_file_does_not_touch_the_kept_copy(path: Path) -> None:
    path.write_text("not json")
    Settings(path).set("temperature", 0.3)
    (kept,) = kept_files(path)
    assert kept.read_text() == "not json" and Settings(path).values.temperature == 0.3


def test_a_file_that_is_not_an_object_is_kept_aside(path: Path) -> None:
    path.write_text("[1, 2]")
    settings = Settings(path)
    assert settings.warnings and len(kept_files(path)) == 1


def test_a_bad_value_falls_back_to_its_default_and_the_file_is_kept(path: Path) -> None:
    path.write_text(json.dumps({"version": SCHEMA_VERSION, "sampling": {"temperature": 9.0, "top_p": 0.5}}))
    settings = Settings(path)
    assert (settings.values.temperature, settings.values.top_p) == (0.7, 0.5)
    assert "Temperature must be between 0 and 2" in settings.warnings[0]
    assert len(kept_files(path)) == 1


def test_the_first_flat_format_is_migrated(path: Path) -> None:
    path.write_text(json.dumps({"temperature": 0.0, "max_tokens": 24, "last_model": "/m", "pane_x": 3}))
    settings = Settings(path)
    assert (settings.values.temperature, settings.values.max_tokens, settings.get("last_model")) == (0.0, 24, "/m")
    assert settings.get("pane_x") == 3 and settings.warnings == []
    settings.save()
    assert json.loads(path.read_text())["other"] == {"pane_x": 3}


def test_the_file_before_migration_is_kept(path: Path) -> None:
    path.write_text(json.dumps({"temperature": 0.0}))
    Settings(path).save()
    (kept,) = kept_files(path)
    assert json.loads(kept.read_text()) == {"temperature": 0.0}


def test_a_file_from_a_newer_version_is_read_as_far_as_possible_and_kept(path: Path) -> None:
    path.write_text(json.dumps({"version": SCHEMA_VERSION + 1, "sampling": {"temperature": 0.4}, "new": {"x": 1}}))
    settings = Settings(path)
    assert settings.values.temperature == 0.4 and "newer Cabin" in settings.warnings[0]
    assert len(kept_files(path)) == 1


def test_keys_the_schema_does_not_know_are_kept(path: Path) -> None:
    Settings(path).set("download_folder", "/Volumes/models")
    assert Settings(path).get("download_folder") == "/Volumes/models"


def test_restore_defaults_resets_only_the_given_keys(path: Path) -> None:
    settings = Settings(path)
    settings.update({"temperature": 0.1, "last_model": "/m"})
    settings.restore_defaults(["temperature"])
    assert Settings(path).values.temperature == 0.7 and Settings(path).get("last_model") == "/m"


def test_sampling_carries_every_setting_of_the_next_answer(path: Path) -> None:
    settings = Settings(path)
    settings.update({"temperature": 0.3, "top_p": 0.8, "min_p": 0.05, "top_k": 40, "repetition_penalty": 1.1,
                     "max_tokens": 99, "seed": 7, "context_length": 4096})
    sampling = settings.sampling()
    assert (sampling.temperature, sampling.top_p, sampling.min_p, sampling.top_k) == (0.3, 0.8, 0.05, 40)
    assert (sampling.repetition_penalty, sampling.max_tokens, sampling.seed, sampling.context_length) == (1.1, 99, 7, 4096)


def test_memory_limits_are_given_in_bytes(path: Path) -> None:
    settings = Settings(path)
    settings.update({"memory_limit_gb": 2.0, "cache_limit_gb": 0.0})
    assert settings.memory_limits() == (2 * 1024**3, 0)
    settings.restore_defaults(["memory_limit_gb", "cache_limit_gb"])
    assert settings.memory_limits() == (None, None)
