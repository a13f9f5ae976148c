"""How long `cabin --version`, `cabin --help` and a command's `--help` take, against a bare interpreter's start.

    .venv/bin/python bench/cli_startup.py [--runs 10]

Each run is a fresh `python -m cabin ...` process (what the `cabin` script runs), timed by wall clock; the
interpreter's own start (`python -c pass`) is measured in the same rounds, interleaved, so a busy machine
slows both alike. The goal for `cabin --version` is under 0.3 s. `python -X importtime -m cabin --version`
says where the rest goes.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = {
    "python -c pass": ["-c", "pass"],
    "cabin --version": ["-m", "cabin", "--version"],
    "cabin --help": ["-m", "cabin", "--help"],
    "cabin chat --help": ["-m", "cabin", "chat", "--help"],
}


def seconds(args: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, *args], cwd=ROOT, capture_output=True, check=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for _ in range(runs):
        for name, args in CASES.items():
            times[name].append(seconds(args))
    floor = statistics.median(times["python -c pass"])
    for name, values in times.items():
        median = statistics.median(values)
        print(f"{name:18} median {median * 1000:4.0f} ms (min {min(values) * 1000:4.0f}, max {max(values) * 1000:4.0f})"
              f"  = {median / floor:.1f}x the bare interpreter, +{(median - floor) * 1000:.0f} ms")
    print(f"over {runs} interleaved rounds; goal: cabin --version under 300 ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
