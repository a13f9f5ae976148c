"""The speculative-decoding settings: each model's draft model (by model key) and the draft tokens, kept in
settings.json; a version-2 file migrates to them; the engine gets them as DraftChoices."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.preferences.apply import apply_to_engine
from engine.generation import Engine
from engine.settings.file import Settings
from engine.settings.schema import SettingError
from engine.speculative import DraftChoice


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "settings.json"


def test_no_model_has_a_draft_by_default(path: Path) -> None:
    values = Settings(path).values
    assert (values.draft_models, values.num_draft_tokens) == ({}, 3)


def test_a_models_draft_round_trips_through_the_file(path: Path) -> None:
    Settings(path).set("draft_models", {"/models/big": "/models/small"})
    assert json.loads(path.read_text())["drafts"] == {"draft_models": {"/models/big": "/models/small"}}
    assert Settings(path).values.draft_models == {"/models/big": "/models/small"}


def test_a_draft_that_is_not_a_model_name_is_refused(path: Path) -> None:
    with pytest.raises(SettingError, match="Draft models must map model names to model names"):
        Settings(path).set("draft_models", {"/models/big": 3})


def test_a_version_2_file_migrates_with_no_drafts_and_keeps_its_values(path: Path) -> None:
    path.write_text(json.dumps({"version": 2, "sampling": {"temperature": 0.2}}))
    settings = Settings(path)
    assert (settings.values.temperature, settings.values.draft_models, settings.values.num_draft_tokens) == (0.2, {}, 3)
    assert settings.warnings == []


def test_the_engine_gets_each_models_draft_with_the_draft_tokens(path: Path) -> None:
    settings = Settings(path)
    settings.update({"draft_models": {"/models/big": "/models/small"}, "num_draft_tokens": 5})
    engine = Engine()
    try:
        apply_to_engine(settings, engine)
        assert engine.drafts == {"/models/big": DraftChoice("/models/small", 5)}
    finally:
        engine.shutdown()
