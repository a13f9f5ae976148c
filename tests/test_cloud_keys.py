"""API keys live in the OS keychain (keyring) only: stored, read and removed there; a clear line where there is none."""

from __future__ import annotations

import json
import sys

import keyring
import pytest
from keyring.backends import fail

from engine.cloud.keys import SERVICE, NoKeychain, delete_key, get_key, set_key
from engine.cloud.provider import Provider
from engine.settings.file import Settings
from engine.settings.schema import SCHEMA_VERSION

OPENAI = Provider("openai", "", "gpt-4o-mini")


def test_a_key_is_kept_in_the_keychain_under_the_endpoint(memory_keyring) -> None:
    set_key(OPENAI, "  sk-live  ")
    assert get_key(OPENAI) == "sk-live"
    assert memory_keyring.entries == {(SERVICE, "openai:https://api.openai.com/v1"): "sk-live"}


def test_each_endpoint_has_its_own_key(memory_keyring) -> None:
    set_key(OPENAI, "sk-a")
    assert get_key(Provider("openai", "https://openrouter.ai/api/v1", "x")) is None


def test_an_empty_key_removes_the_stored_one(memory_keyring) -> None:
    set_key(OPENAI, "sk-live")
    set_key(OPENAI, "")
    delete_key(OPENAI)
    assert get_key(OPENAI) is None and memory_keyring.entries == {}


def test_without_a_keychain_every_call_says_so_in_one_line() -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(NoKeychain) as caught:
            set_key(OPENAI, "sk-live")
        with pytest.raises(NoKeychain):
            get_key(OPENAI)
    finally:
        keyring.set_keyring(previous)
    linux = "No keychain on this system (Secret Service not running)"
    expected = linux if sys.platform.startswith("linux") else "No keychain"
    assert str(caught.value).startswith(expected) and "\n" not in str(caught.value)


def test_the_settings_file_never_holds_the_key(memory_keyring, tmp_path) -> None:
    settings = Settings(tmp_path / "settings.json")
    settings.update({"cloud_model": "gpt-4o-mini", "route_default": "auto"})
    set_key(OPENAI, "sk-secret-123")
    text = (tmp_path / "settings.json").read_text()
    assert "sk-secret-123" not in text and json.loads(text)["cloud"]["cloud_model"] == "gpt-4o-mini"


def test_a_version_2_settings_file_loses_any_api_key_it_carried(tmp_path) -> None:
    path = tmp_path / "settings.json"
    path.write_text(json.dumps({"version": 2, "sampling": {"temperature": 0.3}, "other": {"openai_api_key": "sk-x"}}))
    settings = Settings(path)
    settings.save()
    data = json.loads(path.read_text())
    assert data["version"] == SCHEMA_VERSION and settings.values.temperature == 0.3 and "sk-x" not in path.read_text()
    assert (settings.values.route_default, settings.values.offline) == ("local", False)
