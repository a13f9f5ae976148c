"""Whether Cabin must stay off the network, decided without touching it: the Preferences switch,
`HF_HUB_OFFLINE` as huggingface_hub reads it, or no network interface that could reach another machine
(Wi-Fi off on a plane), so that routing never waits on a connection that cannot succeed.

A provider on this machine (a local server at 127.0.0.1 or localhost) needs no network and is not held back by
the last check.
"""

from __future__ import annotations

import ipaddress
import os
import socket
from typing import Any
from urllib.parse import urlsplit

import psutil

TRUE_WORDS = {"1", "ON", "YES", "TRUE"}
LOCAL_NAMES = {"localhost", "localhost.localdomain"}


def env_offline() -> bool:
    return os.environ.get("HF_HUB_OFFLINE", "").strip().upper() in TRUE_WORDS


def offline_reason(switch: bool, url: str | None = None) -> str | None:
    """Why nothing may go to the cloud now ("offline", "offline: no network"), or None when it may."""
    if switch or env_offline():
        return "offline"
    if url is not None and not on_this_machine(url) and not network_up():
        return "offline: no network"
    return None


def on_this_machine(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    if host in LOCAL_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def network_up(addresses: dict[str, list[Any]] | None = None, stats: dict[str, Any] | None = None) -> bool:
    """Whether an interface is up with an address that can reach another machine (not loopback, not link-local).
    `addresses` and `stats` are psutil's `net_if_addrs()` and `net_if_stats()` (read when not given)."""
    addresses = psutil.net_if_addrs() if addresses is None else addresses
    stats = psutil.net_if_stats() if stats is None else stats
    for name, entries in addresses.items():
        if name in stats and stats[name].isup and any(_routable(entry) for entry in entries):
            return True
    return False


def _routable(entry: Any) -> bool:
    if entry.family not in (socket.AF_INET, socket.AF_INET6):
        return False
    try:
        address = ipaddress.ip_address(entry.address.split("%")[0])
    except ValueError:
        return False
    return not (address.is_loopback or address.is_link_local or address.is_unspecified)
