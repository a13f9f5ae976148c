"""Upgrades of the settings file from older formats, one version step at a time (as napari and Picard do).

To change the format: bump `SCHEMA_VERSION` in `engine.settings.schema` and add the step from the previous
version here. A step takes the parsed file of its version and returns the next version's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from engine.settings.schema import FIELDS, SCHEMA_VERSION, spec

Data = dict[str, Any]


def _flat_to_sections(data: Data) -> Data:
    """1 → 2: the first window's file held every key at the top level; now each sits in its section."""
    upgraded: Data = {"version": 2}
    for key, value in data.items():
        section = spec(key).section if key in FIELDS else "other"
        upgraded.setdefault(section, {})[key] = value
    return upgraded


def _without_api_keys(data: Data) -> Data:
    """2 → 3: hybrid routing keeps API keys in the OS keychain only, so any key-like entry a hand-edited or
    foreign file carried is dropped (the routing and cloud sections themselves start at their defaults)."""
    upgraded: Data = {"version": 3}
    for section, values in data.items():
        if section != "version":
            upgraded[section] = {k: v for k, v in values.items() if not _secret(k)} if isinstance(values, dict) else values
    return upgraded


def _secret(key: str) -> bool:
    return any(word in key.lower() for word in ("api_key", "apikey", "secret", "token_key"))


def _add_speculative(data: Data) -> Data:
    """3 → 4: speculative decoding's settings, as they are by default (no model has a draft; 3 draft tokens)."""
    upgraded = {**data, "version": 4}
    upgraded.setdefault("speculative", {}).setdefault("num_draft_tokens", 3)
    upgraded.setdefault("drafts", {}).setdefault("draft_models", {})
    return upgraded


MIGRATIONS: dict[int, Callable[[Data], Data]] = {1: _flat_to_sections, 2: _without_api_keys, 3: _add_speculative}


def migrate(data: Data, version: int) -> Data:
    """The file's data in the current format."""
    while version < SCHEMA_VERSION:
        data = MIGRATIONS[version](data)
        version += 1
    return data
