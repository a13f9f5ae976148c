"""The settings file: the typed schema of `engine.settings.schema`, stored as versioned JSON in the app-data folder.

Reading never stops the app: a file that is not JSON is moved aside and the defaults are used; a value
the schema refuses falls back to its default; either way the original is kept beside the settings file
and `warnings` says what happened. Older files are migrated (`engine.settings.migrations`); keys the schema
does not know (another version's, another pane's) are kept as they are. Writes are atomic.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from pathlib import Path
from typing import Any

from engine.settings.migrations import migrate
from engine.settings.schema import DEFAULTS, FIELDS, GB, SCHEMA_VERSION, Preferences, SettingError, check, spec
from engine.generation import SamplingSettings

OTHER = "other"
"""The file's section for keys the schema does not know."""


class Settings:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.warnings: list[str] = []
        """What went wrong reading the file, for the app to tell the user once."""
        self._values: dict[str, Any] = dataclasses.asdict(DEFAULTS)
        self._other: dict[str, Any] = {}
        self._load()

    # -- reading -----------------------------------------------------------------------------
    def _load(self) -> None:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return
        except (OSError, ValueError) as e:
            kept = self._keep_aside("unreadable", move=True)
            self.warnings.append(f"The settings file could not be read ({_reason(e)}); Cabin uses the default "
                                 f"settings and kept the old file as {kept.name}.")
            return
        if not isinstance(data, dict):
            kept = self._keep_aside("unreadable", move=True)
            self.warnings.append(f"The settings file held no settings; Cabin uses the defaults and kept it as {kept.name}.")
            return
        self._take(self._migrated(data))

    def _migrated(self, data: dict[str, Any]) -> dict[str, Any]:
        version = data.get("version", 1)
        if not isinstance(version, int) or version > SCHEMA_VERSION:
            kept = self._keep_aside(f"v{version}")
            self.warnings.append(f"The settings file was written by a newer Cabin (format {version}); settings this "
                                 f"version knows are used, and the file is kept as {kept.name}.")
            return data
        if version < SCHEMA_VERSION:
            self._keep_aside(f"v{version}")
        return migrate(data, version)

    def _take(self, data: dict[str, Any]) -> None:
        """Accept each known value the schema allows; keep unknown keys; note the refused ones."""
        refused = []
        for section, values in data.items():
            if section == "version" or not isinstance(values, dict):
                continue
            for key, value in values.items():
                if key not in FIELDS:
                    self._other[key] = value
                    continue
                try:
                    self._values[key] = check(key, value)
                except SettingError as e:
                    refused.append(f"{e} (was {value!r}, now {self._values[key]!r})")
        if refused:
            kept = self._keep_aside("before-repair")
            self.warnings.append(f"Some settings were not valid and their defaults are used: {'; '.join(refused)}. "
                                 f"The file as it was is kept as {kept.name}.")

    def _keep_aside(self, tag: str, move: bool = False) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        kept = self.path.with_name(f"{self.path.stem}.{tag}-{stamp}{self.path.suffix}")
        (os.replace if move else shutil.copyfile)(self.path, kept)
        return kept

    # -- the API -----------------------------------------------------------------------------
    @property
    def values(self) -> Preferences:
        return Preferences(**self._values)

    def get(self, key: str) -> Any:
        return self._values[key] if key in FIELDS else self._other.get(key)

    def set(self, key: str, value: Any) -> None:
        """Store one value and save; a value the schema refuses raises SettingError and changes nothing."""
        self.update({key: value})

    def update(self, values: dict[str, Any]) -> None:
        """Store several values at once (all or none) and save."""
        checked = {key: check(key, value) for key, value in values.items()}
        for key, value in checked.items():
            (self._values if key in FIELDS else self._other)[key] = value
        self.save()

    def restore_defaults(self, keys: list[str]) -> None:
        self.update({key: getattr(DEFAULTS, key) for key in keys})

    def save(self) -> None:
        """Write to a temporary file and rename it over the old one: a crash never leaves half a file."""
        data: dict[str, Any] = {"version": SCHEMA_VERSION}
        for key, value in self._values.items():
            data.setdefault(spec(key).section, {})[key] = value
        if self._other:
            data[OTHER] = self._other
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, self.path)

    # -- what the engine gets ----------------------------------------------------------------
    def sampling(self) -> SamplingSettings:
        """The settings for the next answer: every SamplingSettings field that has a setting of the same name."""
        return SamplingSettings(**{f.name: self._values[f.name] for f in dataclasses.fields(SamplingSettings) if f.name in FIELDS})

    def memory_limits(self) -> tuple[int | None, int | None]:
        """(memory limit, cache limit) in bytes; None keeps MLX's default."""
        v = self.values
        return _bytes(v.memory_limit_gb), _bytes(v.cache_limit_gb)


def _bytes(gigabytes: float | None) -> int | None:
    return None if gigabytes is None else int(gigabytes * GB)


def _reason(error: Exception) -> str:
    return error.strerror if isinstance(error, OSError) and error.strerror else str(error).split("\n")[0]
