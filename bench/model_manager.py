"""The model manager against raw huggingface_hub and mlx_lm, same files, same run.

- pull: Cabin's `pull` (progress polling, disk check, validation) vs raw `snapshot_download` with the same
  allow-patterns, from a local server speaking the Hub's file API (goal: ratio >= 0.95).
- convert: Cabin's `convert` (a child process) vs `mlx_lm.convert` in this process (the child's start-up is
  the expected cost).
- list: `list_models` with N models in the cache (ms per model).

    .venv/bin/python bench/model_manager.py [--hidden 512] [--layers 8] [--repeat 3] [--models 20]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(tempfile.mkdtemp(prefix="cabin-bench-mm-"))
os.environ["HF_HUB_CACHE"] = str(ROOT / "hub")
os.environ["CABIN_DATA_DIR"] = str(ROOT / "data")
os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from huggingface_hub import snapshot_download  # noqa: E402

from engine.memory import format_bytes  # noqa: E402
from engine.models.convert import convert  # noqa: E402
from engine.models.download import pull  # noqa: E402
from engine.models.store import list_models, mlx_file_patterns  # noqa: E402
from tests.conftest import put_in_hf_cache  # noqa: E402
from tests.fake_hub import FakeHub, serve  # noqa: E402
from tests.model_factory import ModelSpec, build_model  # noqa: E402


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def fresh_cache() -> None:
    shutil.rmtree(ROOT / "hub", ignore_errors=True)
    shutil.rmtree(ROOT / "data", ignore_errors=True)


def bench_pull(repo: str, size: int, repeat: int, endpoint: str) -> None:
    raw, cabin = [], []
    for _ in range(repeat):
        fresh_cache()
        raw.append(timed(lambda: snapshot_download(repo, allow_patterns=mlx_file_patterns(), endpoint=endpoint)))
        fresh_cache()
        cabin.append(timed(lambda: pull(repo, on_progress=lambda p: None)))
    r, c = statistics.median(raw), statistics.median(cabin)
    print(f"pull {format_bytes(size)}: raw snapshot_download {size / r / 2**20:.0f} MB/s, "
          f"cabin pull {size / c / 2**20:.0f} MB/s, ratio {r / c:.2f}")  # fmt: skip


def bench_convert(source: Path, repeat: int) -> None:
    from mlx_lm import convert as mlx_convert

    raw, cabin = [], []
    for i in range(repeat):
        out, name = ROOT / f"raw-{i}", f"cabin-{i}"
        raw.append(timed(lambda o=out: mlx_convert(str(source), mlx_path=str(o), quantize=True, q_bits=4, q_group_size=64)))
        cabin.append(timed(lambda n=name: convert(source, bits=4, name=n)))
    r, c = statistics.median(raw), statistics.median(cabin)
    print(f"convert to 4-bit: raw mlx_lm {r:.2f} s, cabin (child process) {c:.2f} s, ratio {r / c:.2f}")


def bench_list(model: Path, count: int) -> None:
    fresh_cache()
    for i in range(count):
        put_in_hf_cache(ROOT / "hub", f"bench/model-{i}", model)
    seconds = min(timed(list_models) for _ in range(3))
    print(f"list_models with {count} cached models: {seconds * 1000:.0f} ms ({seconds * 1000 / count:.1f} ms per model)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--hidden", type=int, default=512)
    parser.add_argument("--layers", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--models", type=int, default=20)
    args = parser.parse_args()
    spec = ModelSpec(hidden_size=args.hidden, intermediate_size=args.hidden * 4, num_hidden_layers=args.layers,
                     num_attention_heads=8, num_key_value_heads=4, dtype="float16")  # fmt: skip
    source = build_model(ROOT / "source", spec)
    size = sum(f.stat().st_size for f in source.iterdir())
    hub = FakeHub()
    hub.add_repo("bench/model", source)
    server = serve(hub)
    os.environ["HF_ENDPOINT"] = hub.url
    try:
        bench_pull("bench/model", size, args.repeat, hub.url)
        bench_convert(source, args.repeat)
        bench_list(source, args.models)
    finally:
        server.shutdown()
        shutil.rmtree(ROOT, ignore_errors=True)


if __name__ == "__main__":
    main()
