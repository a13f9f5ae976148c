"""Whether Cabin must stay off the network: the Preferences switch, or `HF_HUB_OFFLINE` as huggingface_hub reads it."""

from __future__ import annotations

import os

TRUE_WORDS = {"1", "ON", "YES", "TRUE"}


def env_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in TRUE_WORDS


def is_offline(switch: bool) -> bool:
    return switch or env_offline()
