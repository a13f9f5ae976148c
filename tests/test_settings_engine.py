"""What the settings and performance view need from the engine: MLX memory limits set on the worker,
readings of them, the activity of answers, and the size of the weights in memory."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from engine.generation import Engine, SamplingSettings
from engine.messages import user

MB = 1024**2
GREEDY = SamplingSettings(temperature=0, max_tokens=6)
HELLO = [user("Hello there")]


@pytest.fixture
def limited_engine(engine: Engine) -> Iterator[Engine]:
    """An engine whose MLX limits (process-wide) are put back to MLX's defaults afterwards."""
    yield engine
    engine.set_memory_limits(None, None).result()


def test_memory_limits_are_set_and_reported(limited_engine: Engine) -> None:
    limits = limited_engine.set_memory_limits(512 * MB, 64 * MB).result()
    assert (limits.memory, limits.cache) == (512 * MB, 64 * MB)
    assert limited_engine.memory().limits == limits


def test_no_limit_restores_mlx_defaults(limited_engine: Engine) -> None:
    defaults = limited_engine.set_memory_limits(None, None).result()
    limited_engine.set_memory_limits(512 * MB, 0).result()
    assert limited_engine.set_memory_limits(None, None).result() == defaults


def test_limits_are_set_on_the_worker_thread(limited_engine: Engine) -> None:
    limited_engine.set_memory_limits(700 * MB, None).result()
    assert limited_engine.submit(lambda: __import__("mlx.core").core.get_memory_limit()).result() == 700 * MB


def test_a_reading_before_any_limit_was_set_has_none(engine: Engine) -> None:
    assert engine.memory().limits is None


def test_activity_records_each_finished_answer(llama_engine: Engine) -> None:
    llama_engine.chat(HELLO, GREEDY).result()
    llama_engine.chat(HELLO, GREEDY, conversation_id="other").result()
    activity = llama_engine.activity()
    assert activity.answers == 2 and not activity.generating and activity.live is None
    assert [r.stats.generated_tokens for r in activity.recent] == [6, 6]
    assert activity.recent[-1].stats.generation_tps > 0 and activity.recent[-1].finish_reason == "length"


def test_activity_shows_the_answer_in_progress(llama_engine: Engine) -> None:
    seen = []
    generation = llama_engine.chat(HELLO, SamplingSettings(temperature=0, max_tokens=8))
    for _event in generation:
        seen.append(llama_engine.activity())
    assert seen[0].generating and seen[0].live is not None
    assert llama_engine.activity().answers == 1


def test_reset_peak_memory_lowers_the_peak_to_what_is_in_use(engine: Engine, bigger_model: Path) -> None:
    engine.load(bigger_model).result()
    engine.chat(HELLO, GREEDY).result()
    before = engine.memory().peak
    engine.reset_peak_memory().result()
    after = engine.memory()
    assert after.peak <= before and after.peak <= after.active + after.cache + MB


def test_weights_upcast_to_float32_take_more_memory_than_on_disk(engine: Engine, llama_4bit_model: Path) -> None:
    info = engine.load(llama_4bit_model).result()
    assert engine.compute_plan.upcast
    assert engine.resident_weight_bytes > 4 * info.weight_bytes


def test_the_fit_check_plans_for_no_more_context_than_the_model_takes(engine: Engine, llama_model: Path) -> None:
    info = engine.load(llama_model, context=10**9).result()
    assert info.context_length == 2048
