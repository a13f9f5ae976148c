"""Memory readings: system memory on Linux and macOS (faked here), MLX counters via the engine."""

from __future__ import annotations

import subprocess
import sys

import pytest

from engine import memory
from engine.generation import Engine
from engine.memory import format_bytes, parse_meminfo, parse_vm_stat, system_memory
from engine.messages import user

MEMINFO = """MemTotal:       24684084 kB
MemFree:         1000000 kB
MemAvailable:   20000000 kB
Buffers:           12345 kB
"""
VM_STAT = """Mach Virtual Memory Statistics: (page size of 16384 bytes)
Pages free:                               10000.
Pages active:                            400000.
Pages inactive:                           20000.
Pages speculative:                         3000.
Pages throttled:                              0.
Pages wired down:                        150000.
Pages purgeable:                           1000.
"""


def test_linux_meminfo_is_read_in_bytes() -> None:
    reading = parse_meminfo(MEMINFO)
    assert (reading.total, reading.available) == (24684084 * 1024, 20000000 * 1024)


def test_macos_available_counts_free_inactive_speculative_and_purgeable_pages() -> None:
    reading = parse_vm_stat(16 * 2**30, VM_STAT)
    assert reading.total == 16 * 2**30
    assert reading.available == (10000 + 20000 + 3000 + 1000) * 16384


def test_macos_reads_sysctl_and_vm_stat(monkeypatch: pytest.MonkeyPatch) -> None:
    outputs = {"sysctl": f"{32 * 2**30}\n", "vm_stat": VM_STAT}

    def fake_run(args: list[str], **_: object) -> subprocess.CompletedProcess:
        return subprocess.CompletedProcess(args, 0, stdout=outputs[args[0]])

    monkeypatch.setattr(sys, "platform", "darwin")
    monkeypatch.setattr(memory.subprocess, "run", fake_run)
    assert system_memory().total == 32 * 2**30


def test_this_machine_reports_plausible_system_memory() -> None:
    reading = system_memory()
    assert 0 < reading.available <= reading.total


def test_engine_reports_mlx_memory_of_the_loaded_model(llama_engine: Engine) -> None:
    reading = llama_engine.memory()
    assert reading.active >= llama_engine.model_info.weight_bytes * 0.9
    assert reading.peak >= reading.active


def test_reset_peak_memory(llama_engine: Engine) -> None:
    llama_engine.chat([user("Hi")]).result()
    llama_engine.reset_peak_memory().result()
    llama_engine.submit(lambda: None).result()
    reading = llama_engine.memory()
    assert reading.peak <= reading.active + reading.cache + 1


@pytest.mark.parametrize(("n", "text"), [(512, "512 B"), (1536, "1.5 KB"), (3 * 2**30, "3.0 GB")])
def test_format_bytes(n: int, text: str) -> None:
    assert format_bytes(n) == text
