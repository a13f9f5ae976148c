"""What a quantized KV cache costs and saves on the real SmolLM2-135M-Instruct (mlx_lm's QuantizedKVCache, as Cabin's
MLX backend makes it with --kv-bits / Preferences ▸ KV cache).

Quality: a fixed ~500-token text is fed through the model (teacher forcing, in prefill chunks of 128 tokens so later
chunks read earlier ones from the cache) with a full-precision, an 8-bit and a 4-bit KV cache; for each position the
next-token argmax is compared with the full-precision run (top-1 agreement) and the KL divergence of the
distributions is averaged.

Memory at 8k context: the caches Cabin's backend makes (`new_cache`) are filled with 8,192 tokens of keys and values
of the model's shapes through mlx_lm's own `update_and_fetch`, in 512-token steps like a prefill, and their `nbytes`
summed, in float32 (what this CPU computes in after the upcast) and float16 (a Mac's GPU). Not a real 8k prefill: with
a quantized cache that takes minutes here (quantized attention is slow on MLX's CPU backend). A real 512-token
prefill checks that the fill gives the same bytes. The fit check's figure (engine/models/fit.py) is printed beside.

Also printed: prefill and decode speed with each cache, from the same runs (this CPU; Metal has fused kernels).

    .venv/bin/python bench/kv_cache_quant.py
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from engine.generation import Engine  # noqa: E402 — engine first: it switches MLX's CPU matmuls to OpenBLAS

import mlx.core as mx  # noqa: E402
import numpy as np  # noqa: E402

from bench.smollm2 import smollm2_model  # noqa: E402
from engine.memory import format_bytes  # noqa: E402
from engine.models.folder import inspect_model_folder  # noqa: E402

KINDS = (None, 8, 4)
CHUNK = 128
LONG_CONTEXT = 8192
FILL_STEP = 512
DECODE_STEPS = 16
DECODE_REPEATS = 3
TEXT = """\
The lighthouse keeper kept a notebook on the table by the window, and every evening before lighting the lamp he wrote
down three things: the direction of the wind, the colour of the sea, and the names of any ships that had passed. Most
days the list of ships was short. A fishing boat from the harbour in the morning, the mail steamer on Tuesdays and
Fridays, and now and then a yacht that had wandered too far from the coast and turned back when the swell grew heavy.
In winter there were weeks when nothing passed at all, and the notebook filled with weather instead.

He had learned the work from his aunt, who had kept the same light for thirty years. She taught him to trim the wick,
to polish the great lens with a soft cloth and a little alcohol, and to wind the clockwork that turned the beam. She
also taught him to listen. A change in the sound of the waves against the rocks, she said, tells you about a storm
long before the barometer does. He had not believed her at first, but after two winters alone on the island he could
hear it too: a deeper note underneath the usual noise, as if the sea were clearing its throat.

The island itself was small enough to walk around in twenty minutes. There was a vegetable garden behind the house,
protected from the wind by a wall of piled stones, where he grew potatoes, onions, cabbages and a row of beans that
never quite ripened. A spring near the northern cliff gave fresh water all year. Goats had been kept there once, and
their shed still stood, though the roof had fallen in. Gulls nested on the western slope, and in spring the air was
full of their arguments.

Once a month the supply boat came with flour, oil for the lamp, coffee, letters and newspapers that were already two
weeks old. He read the newspapers slowly, one page a day, so that they would last until the next boat. In this way the
news of the world reached him at its own pace, and he found that very little of it was urgent. Elections were won and
lost, prices rose, a bridge was opened in a city he had never seen. None of it changed the direction of the wind.

On the last night of the year he climbed the stairs to the lamp room, lit the flame, and sat for a long time watching
the beam sweep across the dark water. Far out, a single light answered: a ship, heading south. He wrote its name in
the notebook when it passed close enough to read, and then, under it, the date, the wind from the north-east, and the
sea the colour of slate.
"""


def teacher_forced(backend: Any, ids: list[int]) -> tuple[np.ndarray, np.ndarray, float]:
    """(argmax per position, log-probabilities per position, prefill tok/s) of `ids` through a new cache."""
    cache = backend.new_cache()
    logits = []
    start = time.perf_counter()
    for at in range(0, len(ids), CHUNK):
        out = backend.model(mx.array(ids[at : at + CHUNK])[None], cache=cache)[0].astype(mx.float32)
        logprobs = out - mx.logsumexp(out, axis=-1, keepdims=True)
        mx.eval(logprobs)
        logits.append(logprobs)
    seconds = time.perf_counter() - start
    logprobs = np.array(mx.concatenate(logits))
    return logprobs.argmax(axis=-1), logprobs, len(ids) / seconds


def decode_tps(backend: Any, ids: list[int]) -> float:
    """Decode steps a second after a 512-token prefill (teacher-forced ids, one at a time); the median of 3 runs."""
    cache = backend.new_cache()
    mx.eval(backend.model(mx.array(ids[:FILL_STEP])[None], cache=cache))
    runs = []
    for _ in range(DECODE_REPEATS):
        start = time.perf_counter()
        for token in ids[FILL_STEP : FILL_STEP + DECODE_STEPS]:
            mx.eval(backend.model(mx.array([[token]]), cache=cache))
        runs.append(DECODE_STEPS / (time.perf_counter() - start))
        backend.trim_cache(cache, DECODE_STEPS)
    return statistics.median(runs)


def filled_bytes(backend: Any, tokens: int, dtype: mx.Dtype, kv_heads: int, head_dim: int) -> int:
    """nbytes of the backend's caches after `tokens` keys and values went through mlx_lm's update_and_fetch."""
    cache = backend.new_cache()
    block = mx.zeros((1, kv_heads, FILL_STEP, head_dim), dtype=dtype)
    for layer in cache:
        for _ in range(tokens // FILL_STEP):
            layer.update_and_fetch(block, block)
        mx.eval(layer.state)
    return sum(layer.nbytes for layer in cache)


def prefilled_bytes(backend: Any, ids: list[int]) -> int:
    """nbytes of the backend's caches after a real prefill of `ids` (a multiple of 256 tokens: no spare room)."""
    cache = backend.new_cache()
    mx.eval(backend.model(mx.array(ids)[None], cache=cache))
    return sum(layer.nbytes for layer in cache)


def measure(model: Path, bits: int | None, text_ids: list[int], long_ids: list[int]) -> dict[str, Any]:
    info = inspect_model_folder(model)
    engine = Engine(kv_bits=bits)
    try:
        engine.load(model).result()

        def run(backend: Any) -> dict[str, Any]:
            argmax, logprobs, prefill = teacher_forced(backend, text_ids)
            kv = info.kv
            return {
                "argmax": argmax,
                "logprobs": logprobs,
                "prefill_tps": prefill,
                "decode_tps": decode_tps(backend, long_ids),
                "float32_8k": filled_bytes(backend, LONG_CONTEXT, mx.float32, kv.kv_heads, kv.head_dim),
                "float16_8k": filled_bytes(backend, LONG_CONTEXT, mx.float16, kv.kv_heads, kv.head_dim),
                "float32_512_fill": filled_bytes(backend, FILL_STEP, mx.float32, kv.kv_heads, kv.head_dim),
                "float32_512_prefill": prefilled_bytes(backend, long_ids[:FILL_STEP]),
                "upcast": bool(backend.compute_plan and backend.compute_plan.upcast),
            }

        return engine.run_with_backend(run).result()
    finally:
        engine.shutdown()


def kl(reference: np.ndarray, other: np.ndarray) -> float:
    """Mean KL(reference || other) over positions, in nats."""
    return float((np.exp(reference) * (reference - other)).sum(axis=-1).mean())


def main() -> None:
    model = smollm2_model()
    info = inspect_model_folder(model)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    text_ids = tokenizer.encode(TEXT, add_special_tokens=False)
    long_ids = (text_ids * (FILL_STEP // len(text_ids) + 2))[: FILL_STEP + DECODE_STEPS]
    print(f"{info.name}: {len(text_ids)} tokens of text, teacher-forced in chunks of {CHUNK}; "
          f"KV shape {info.kv}, group size {info.kv.group_size}", flush=True)  # fmt: skip
    results = {}
    for bits in KINDS:
        results[bits] = measure(model, bits, text_ids, long_ids)
        print(f"  measured {bits or 'full'}", flush=True)
    full = results[None]
    print(f"\n{'KV cache':<10} {'top-1 agree':>11} {'mean KL':>9} {'8k float32':>11} {'8k float16':>11} "
          f"{'fit check':>10} {'prefill':>11} {'decode':>10}")  # fmt: skip
    for bits, r in results.items():
        agree = float((r["argmax"] == full["argmax"]).mean())
        fit_bytes = info.kv.bytes_per_token_at(bits) * LONG_CONTEXT
        print(f"{(f'{bits}-bit' if bits else 'full'):<10} {agree:>11.1%} {kl(full['logprobs'], r['logprobs']):>9.4f} "
              f"{format_bytes(r['float32_8k']):>11} {format_bytes(r['float16_8k']):>11} {format_bytes(fit_bytes):>10} "
              f"{r['prefill_tps']:>7.1f} t/s {r['decode_tps']:>6.1f} t/s")  # fmt: skip
    for bits, r in results.items():
        same = "same" if r["float32_512_fill"] == r["float32_512_prefill"] else "DIFFERENT"
        print(f"check {bits or 'full'}: 512 tokens filled {format_bytes(r['float32_512_fill'])}, really prefilled "
              f"{format_bytes(r['float32_512_prefill'])} ({same}); weights upcast to float32: {r['upcast']}")  # fmt: skip
    for bits in KINDS[1:]:
        r = results[bits]
        print(f"{bits}-bit at 8k: {r['float16_8k'] / full['float16_8k']:.1%} of full in float16, "
              f"{r['float32_8k'] / full['float32_8k']:.1%} in float32")  # fmt: skip


if __name__ == "__main__":
    main()
