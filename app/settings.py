"""The app's small settings file: last model, window geometry, sampling defaults. JSON, written atomically.

Issue 5 turns this into a typed, versioned schema; until then unknown keys are kept and bad values
fall back to their defaults, so a hand-edited or half-written file never stops the app.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from engine.generation import SamplingSettings

DEFAULTS: dict[str, Any] = {
    "last_model": None,
    "window_geometry": None,
    "splitter_state": None,
    "temperature": 0.7,
    "top_p": 1.0,
    "max_tokens": 2048,
    "default_system_prompt": "",
    "api_server": False,
    "api_port": 11434,
}


class Settings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._values = self._read()

    def _read(self) -> dict[str, Any]:
        try:
            values = json.loads(self.path.read_text())
        except (OSError, ValueError):
            return {}
        return values if isinstance(values, dict) else {}

    def get(self, key: str) -> Any:
        default = DEFAULTS.get(key)
        value = self._values.get(key, default)
        kinds = (int, float) if isinstance(default, float) else type(default)
        if default is not None and (not isinstance(value, kinds) or isinstance(value, bool) != isinstance(default, bool)):
            return default
        return value

    def set(self, key: str, value: Any) -> None:
        self._values[key] = value
        self.save()

    def save(self) -> None:
        """Write to a temporary file and rename it over the old one: a crash never leaves half a file."""
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self._values, indent=2))
        os.replace(tmp, self.path)

    def sampling(self) -> SamplingSettings:
        """The sampling settings for the next answer; invalid stored values give the defaults."""
        try:
            return SamplingSettings(
                temperature=float(self.get("temperature")),
                top_p=float(self.get("top_p")),
                max_tokens=int(self.get("max_tokens")),
            )
        except ValueError:
            return SamplingSettings(max_tokens=DEFAULTS["max_tokens"])
