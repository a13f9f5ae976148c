"""Prompt caches that survive a restart: a conversation's cache is kept in a file and read back by the next engine."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from engine.generation import Engine, Finished, SamplingSettings
from engine.generation.disk_cache import MB, CacheFolder
from engine.messages import Message, assistant, system, user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=12)
SMOLLM2_SYSTEM = system("You are a helpful AI assistant.")
FIRST = [SMOLLM2_SYSTEM, user("What is the capital of France?")]


def follow_up(first: Finished) -> list[Message]:
    return [*FIRST, assistant(first.text), user("And of Germany?")]


@pytest.fixture
def open_engine(tmp_path: Path) -> Iterator[Callable[..., Engine]]:
    """Engines on the same data folder, as the app makes one per launch: `open_engine(model, limit)`."""
    engines: list[Engine] = []

    def open_one(model: Path, limit: int = 2048 * MB, kv_bits: int | None = None) -> Engine:
        engine = Engine(kv_bits=kv_bits, cache_folder=CacheFolder(tmp_path / "prompt-caches", limit))
        engines.append(engine)
        engine.load(model).result()
        return engine

    yield open_one
    for engine in engines:
        engine.shutdown()


def files(engine: Engine) -> list[Path]:
    return [path for _, _, path in engine.cache_folder.files()]


def answer_once(engine: Engine, conversation: str = "chat") -> Finished:
    """One answer, then the engine shut down (which writes its cache files): the app quitting."""
    finished = engine.chat(FIRST, GREEDY, conversation_id=conversation).result()
    engine.shutdown()
    return finished


def test_after_a_restart_the_next_turn_reuses_the_saved_cache(open_engine, smollm2_model: Path) -> None:
    first = answer_once(open_engine(smollm2_model))
    second = open_engine(smollm2_model).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    assert second.stats.cached_tokens == first.stats.prompt_tokens + first.stats.generated_tokens


def test_an_answer_from_a_saved_cache_is_the_answer_from_scratch(open_engine, smollm2_model: Path) -> None:
    first = answer_once(open_engine(smollm2_model))
    restored = open_engine(smollm2_model).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    scratch = Engine()
    try:
        scratch.load(smollm2_model).result()
        recomputed = scratch.chat(follow_up(first), GREEDY, conversation_id="chat").result()
    finally:
        scratch.shutdown()
    assert recomputed.stats.cached_tokens == 0
    assert restored.token_ids == recomputed.token_ids


def test_a_file_made_for_another_model_is_not_used(open_engine, llama_model: Path, tmp_path: Path) -> None:
    """A copy elsewhere is another model to the cache (same tokenizer, so only the key tells them apart)."""
    first = answer_once(open_engine(llama_model))
    copy = Path(shutil.copytree(llama_model, tmp_path / "copy"))
    other = open_engine(copy).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    assert other.stats.cached_tokens == 0


def test_a_file_made_before_the_weights_changed_is_not_used(open_engine, llama_model: Path, tmp_path: Path) -> None:
    model = Path(shutil.copytree(llama_model, tmp_path / "model"))
    first = answer_once(open_engine(model))
    for weights in model.glob("*.safetensors"):
        os.utime(weights, ns=(weights.stat().st_atime_ns, weights.stat().st_mtime_ns + 1_000_000_000))
    again = open_engine(model).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    assert again.stats.cached_tokens == 0


def test_a_file_made_with_another_kv_cache_precision_is_not_used(open_engine, smollm2_model: Path) -> None:
    """SmolLM2's heads (64 wide) can be quantized; the tiny llama's cannot, so its cache would stay the same."""
    first = answer_once(open_engine(smollm2_model))
    quantized = open_engine(smollm2_model, kv_bits=8).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    assert quantized.stats.cached_tokens == 0


def test_a_truncated_file_is_ignored(open_engine, llama_model: Path) -> None:
    first_engine = open_engine(llama_model)
    first = answer_once(first_engine)
    (path,) = files(first_engine)
    path.write_bytes(path.read_bytes()[:-1000])
    again = open_engine(llama_model).chat(follow_up(first), GREEDY, conversation_id="chat").result()
    assert again.error is None
    assert again.stats.cached_tokens == 0


def test_an_unreadable_file_is_deleted(tmp_path: Path) -> None:
    folder = CacheFolder(tmp_path, 100 * MB)
    folder.file("chat").write_bytes(b"not a safetensors file")
    assert folder.read("chat", "any model") is None
    assert not folder.file("chat").exists()


def test_a_lower_limit_deletes_the_least_recently_used_file(open_engine, llama_model: Path) -> None:
    engine = open_engine(llama_model)
    first = {name: engine.chat(FIRST, GREEDY, conversation_id=name).result() for name in ("a", "b")}
    engine.chat(follow_up(first["a"]), GREEDY, conversation_id="a").result()  # a is now used after b
    engine.chat(FIRST, GREEDY, conversation_id="c").result()
    engine.save_cache_files().result()
    folder = engine.cache_folder
    engine.set_cache_files_limit(folder.usage() - 1).result()
    assert files(engine) == sorted([folder.file("a"), folder.file("c")], key=lambda p: p.stat().st_mtime_ns)


def test_files_stay_under_the_limit(open_engine, llama_model: Path) -> None:
    engine = open_engine(llama_model)
    engine.chat(FIRST, GREEDY, conversation_id="a").result()
    engine.save_cache_files().result()
    limit = int(2.5 * engine.cache_folder.usage())  # room for two files of this size
    engine.set_cache_files_limit(limit).result()
    for name in ("b", "c", "d"):
        engine.chat(FIRST, GREEDY, conversation_id=name).result()
        engine.save_cache_files().result()
    assert len(files(engine)) == 2
    assert engine.cache_folder.usage() <= limit


def test_forgetting_a_conversation_deletes_its_file(open_engine, llama_model: Path) -> None:
    answer_once(open_engine(llama_model))
    engine = open_engine(llama_model)
    engine.forget("chat").result()
    assert files(engine) == []


def test_a_conversation_forgotten_before_its_file_is_written_leaves_none(open_engine, llama_model: Path) -> None:
    engine = open_engine(llama_model)
    engine.chat(FIRST, GREEDY, conversation_id="chat")
    engine.forget("chat")
    engine.shutdown()
    assert files(engine) == []


def test_a_limit_of_zero_writes_nothing(open_engine, llama_model: Path) -> None:
    engine = open_engine(llama_model, limit=0)
    answer_once(engine)
    assert files(engine) == []


def test_clearing_deletes_every_file(open_engine, llama_model: Path) -> None:
    engine = open_engine(llama_model)
    for name in ("a", "b"):
        engine.chat(FIRST, GREEDY, conversation_id=name).result()
    engine.save_cache_files().result()
    engine.clear_cache_files().result()
    assert engine.cache_folder.usage() == 0


def test_a_gguf_on_llama_cpp_writes_no_file(open_engine, smollm2_gguf: Path) -> None:
    """The files are mlx_lm's format: llama.cpp answers a reopened conversation from its history."""
    engine = open_engine(smollm2_gguf)
    answer_once(engine)
    assert files(engine) == []


def test_a_file_left_half_written_by_a_crash_is_removed_at_start(tmp_path: Path) -> None:
    left = tmp_path / f".{'0' * 32}.4242.tmp.safetensors"
    left.write_bytes(b"half a file")
    CacheFolder(tmp_path, 100 * MB)
    assert not left.exists()
