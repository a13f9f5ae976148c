"""The fit check with a quantized KV cache: it counts the cache as mlx_lm's QuantizedKVCache stores it, so a model
that won't fit with a full-precision cache can fit with a 4-bit one; the load refusal uses the same numbers."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from engine.errors import ModelError
from engine.generation import Engine
from engine.models.fit import KVShape, Verdict, assess, memory_budget

GB = 1024**3
LLAMA_8B = KVShape(layers=32, kv_heads=8, head_dim=128)
SMOLLM2 = KVShape(layers=30, kv_heads=3, head_dim=64)


def test_a_quantized_kv_token_is_packed_values_plus_a_16_bit_scale_and_bias_per_64() -> None:
    per_vector = {None: 128 * 2, 8: 128 + 2 * 2 * 2, 4: 64 + 2 * 2 * 2}
    for bits, size in per_vector.items():
        assert LLAMA_8B.bytes_per_token_at(bits) == 2 * 32 * 8 * size


def test_the_bytes_agree_with_a_real_quantized_cache() -> None:
    import mlx.core as mx
    from mlx_lm.models.cache import KVCache

    tokens = KVCache.step  # the cache grows in steps of this many tokens
    keys = mx.zeros((1, SMOLLM2.kv_heads, tokens, SMOLLM2.head_dim), dtype=mx.float16)
    for bits in (8, 4):
        layer = KVCache().to_quantized(group_size=64, bits=bits)
        layer.update_and_fetch(keys, keys)
        assert layer.nbytes == tokens * SMOLLM2.bytes_per_token_at(bits) // SMOLLM2.layers


def test_a_model_that_wont_fit_with_a_full_kv_cache_fits_with_a_4_bit_one() -> None:
    full = assess(4 * GB, LLAMA_8B, 131072, 12 * GB)
    quantized = assess(4 * GB, LLAMA_8B, 131072, 12 * GB, kv_bits=4)
    assert (full.kv_cache, quantized.kv_cache) == (16 * GB, 4.5 * GB)
    assert (full.verdict, quantized.verdict) == (Verdict.WONT_FIT, Verdict.FITS)
    assert "4-bit KV cache 4.5 GB" in quantized.describe()


def test_a_head_size_no_group_divides_is_counted_at_full_precision() -> None:
    phi2 = KVShape(layers=32, kv_heads=32, head_dim=80)
    assert phi2.usable_bits(4) is None
    assert assess(GB, phi2, 4096, 12 * GB, kv_bits=4) == assess(GB, phi2, 4096, 12 * GB)


@pytest.fixture
def long_context_smollm2(tmp_path: Path, smollm2_model: Path) -> Path:
    """The real SmolLM2 claiming a billion-token context, so the fit check plans for any context asked."""
    dest = tmp_path / "long-context-smollm2"
    shutil.copytree(smollm2_model, dest)
    config = json.loads((dest / "config.json").read_text())
    (dest / "config.json").write_text(json.dumps({**config, "max_position_embeddings": 10**9}))
    return dest


def test_the_load_refusal_counts_the_quantized_cache(long_context_smollm2: Path) -> None:
    full, quantized = Engine(), Engine(kv_bits=4)
    try:
        budget = full.submit(memory_budget).result()
        context = int(1.5 * budget / SMOLLM2.bytes_per_token)  # the full cache alone is 1.5× the budget; 4-bit: 0.42×
        with pytest.raises(ModelError, match="won't fit"):
            full.load(long_context_smollm2, context=context).result()
        assert quantized.load(long_context_smollm2, context=context).result().path == long_context_smollm2
    finally:
        full.shutdown()
        quantized.shutdown()
