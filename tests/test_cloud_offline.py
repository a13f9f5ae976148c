"""Offline is decided without touching the network: the switch, HF_HUB_OFFLINE, or no interface that could reach
another machine (a laptop on a plane), unless the provider runs on this machine."""

from __future__ import annotations

import socket

import psutil
import pytest

from engine.cloud.offline import network_up, offline_reason, on_this_machine

_addresses, _stats = psutil.net_if_addrs(), psutil.net_if_stats()
Address = type(next(iter(_addresses.values()))[0])
Stats = type(next(iter(_stats.values())))


def interface(up: bool, *addresses: str) -> tuple[list, object]:
    entries = [Address(socket.AF_INET6 if ":" in a else socket.AF_INET, a, None, None, None) for a in addresses]
    return entries, Stats(up, 0, 0, 1500, "")


def machine(**interfaces: tuple[list, object]) -> tuple[dict, dict]:
    return {n: i[0] for n, i in interfaces.items()}, {n: i[1] for n, i in interfaces.items()}


LOOPBACK = interface(True, "127.0.0.1", "::1")


def test_wifi_off_leaves_only_loopback_and_link_local_so_there_is_no_network() -> None:
    wifi_off = interface(False, "192.168.1.20")
    assert not network_up(*machine(lo0=LOOPBACK, en0=wifi_off, awdl0=interface(True, "fe80::1%awdl0")))


@pytest.mark.parametrize("address", ["192.168.1.20", "10.0.0.5", "2a01:4f8::1"])
def test_an_interface_up_with_a_routable_address_is_a_network(address: str) -> None:
    assert network_up(*machine(lo0=LOOPBACK, en0=interface(True, address)))


def test_this_machine_has_a_network_as_psutil_reads_it() -> None:
    routable = [n for n, entries in _addresses.items() if _stats.get(n) and _stats[n].isup and any(
        e.family == socket.AF_INET and not e.address.startswith("127.") for e in entries)]
    assert network_up() == bool(routable)


@pytest.mark.parametrize(("url", "local"), [("http://127.0.0.1:1234/v1", True), ("http://localhost:8080", True),
                                            ("http://[::1]:80", True), ("https://api.openai.com/v1", False)])
def test_a_provider_on_this_machine_needs_no_network(url: str, local: bool) -> None:
    assert on_this_machine(url) is local


def test_the_switch_and_the_environment_say_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    from_env = offline_reason(False, "http://127.0.0.1:1/v1")
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    found = (from_env, offline_reason(True), offline_reason(False, "http://127.0.0.1:1/v1"))
    assert found == ("offline", "offline", None)
