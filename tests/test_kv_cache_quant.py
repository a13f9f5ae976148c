"""A quantized KV cache (mlx_lm's QuantizedKVCache, 8 or 4 bits) on the real SmolLM2: it answers as before, and the
per-conversation prompt cache still reuses, trims and agrees with an uncached run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.generation import Engine, Finished, SamplingSettings
from engine.messages import Message, assistant, system, user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=16)
SYSTEM = system("You are a helpful AI assistant.")
CAPITAL = [SYSTEM, user("What is the capital of France?")]


def quantized_engine(model: Path, bits: int) -> Engine:
    engine = Engine(kv_bits=bits)
    engine.load(model).result()
    return engine


@pytest.fixture
def smollm2_8bit_kv(smollm2_model: Path) -> Iterator[Engine]:
    engine = quantized_engine(smollm2_model, 8)
    yield engine
    engine.shutdown()


def second_turn(first: Finished) -> list[Message]:
    return [*CAPITAL, assistant(first.text), user("And the capital of Italy?")]


def cache_kinds(engine: Engine) -> set[str]:
    return engine.run_with_backend(lambda backend: {type(c).__name__ for c in backend.new_cache()}).result()


def test_an_8_bit_kv_cache_is_mlx_lms_quantized_cache(smollm2_8bit_kv: Engine) -> None:
    assert smollm2_8bit_kv.loaded_kv_bits == 8
    assert cache_kinds(smollm2_8bit_kv) == {"QuantizedKVCache"}


def test_greedy_answer_with_an_8_bit_kv_cache_still_names_paris(smollm2_8bit_kv: Engine) -> None:
    assert "Paris" in smollm2_8bit_kv.chat(CAPITAL, GREEDY).result().text


def test_a_second_turn_reuses_the_quantized_cache_and_matches_an_uncached_run(
    smollm2_8bit_kv: Engine, smollm2_model: Path
) -> None:
    first = smollm2_8bit_kv.chat(CAPITAL, GREEDY).result()
    cached = smollm2_8bit_kv.chat(second_turn(first), GREEDY).result()
    fresh = quantized_engine(smollm2_model, 8)
    try:
        uncached = fresh.chat(second_turn(first), GREEDY, conversation_id="other").result()
    finally:
        fresh.shutdown()
    assert cached.stats.cached_tokens == first.stats.prompt_tokens + first.stats.generated_tokens
    assert uncached.stats.cached_tokens == 0
    assert cached.token_ids == uncached.token_ids


def test_regenerating_trims_the_quantized_cache_and_gives_the_same_answer(smollm2_8bit_kv: Engine) -> None:
    first = smollm2_8bit_kv.chat(CAPITAL, GREEDY).result()
    again = smollm2_8bit_kv.chat(CAPITAL, GREEDY).result()
    assert again.stats.prefilled_tokens == 1
    assert again.token_ids == first.token_ids


def test_a_gguf_on_llama_cpp_keeps_its_kv_cache_at_full_precision(smollm2_gguf: Path) -> None:
    engine = Engine(kv_bits=4)
    try:
        engine.load(smollm2_gguf).result()
        assert engine.loaded_kv_bits is None
    finally:
        engine.shutdown()


@pytest.fixture(scope="module")
def gemma3_wide_heads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A random tiny Gemma 3 with 32-wide heads (a quantized cache needs heads a group of 32 or 64 divides)."""
    from tests.model_factory import ModelSpec, build_model

    return build_model(tmp_path_factory.mktemp("gemma3") / "gemma3-32", ModelSpec(arch="gemma3_text", hidden_size=128, seed=7))


def test_sliding_window_layers_stay_full_precision_and_the_global_ones_are_quantized(gemma3_wide_heads: Path) -> None:
    engine = quantized_engine(gemma3_wide_heads, 8)
    try:
        assert cache_kinds(engine) == {"RotatingKVCache", "QuantizedKVCache"}
        answer = engine.chat([user("Hello there " * 30)], GREEDY).result()
        assert answer.error is None and answer.stats.generated_tokens > 0
    finally:
        engine.shutdown()
