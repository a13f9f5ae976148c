"""The settings file: defaults, atomic writes, and bad values falling back instead of breaking start-up."""

from __future__ import annotations

import json
from pathlib import Path

from app.paths import data_dir
from engine.settings.file import Settings


def test_a_missing_file_gives_defaults(tmp_path: Path) -> None:
    settings = Settings(tmp_path / "settings.json")
    assert settings.get("last_model") is None and settings.sampling().temperature == 0.7


def test_values_are_saved_and_read_back(tmp_path: Path) -> None:
    Settings(tmp_path / "settings.json").set("last_model", "/models/x")
    assert Settings(tmp_path / "settings.json").get("last_model") == "/models/x"


def test_a_corrupt_file_gives_defaults(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("{half a fi")
    assert Settings(tmp_path / "settings.json").get("max_tokens") == 2048


def test_a_value_of_the_wrong_type_gives_its_default(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"max_tokens": "lots", "temperature": 1}))
    settings = Settings(tmp_path / "settings.json")
    assert settings.get("max_tokens") == 2048 and settings.get("temperature") == 1


def test_out_of_range_sampling_values_give_the_defaults(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text(json.dumps({"temperature": 99.0}))
    assert Settings(tmp_path / "settings.json").sampling().temperature == 0.7


def test_the_data_folder_can_be_moved_with_an_environment_variable(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("CABIN_DATA_DIR", str(tmp_path / "elsewhere"))
    assert data_dir() == tmp_path / "elsewhere" and data_dir().is_dir()

