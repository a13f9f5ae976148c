"""Shutting the engine down: answers stop, queued work is cancelled, and no MLX call is left in flight."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from concurrent.futures import CancelledError
from pathlib import Path

import pytest

from engine.generation import Engine, Generation, SamplingSettings
from engine.generation.events import Finished, Stats
from engine.generation.mlx_threads import run_on_mlx_thread
from engine.messages import user

HELLO = [user("Hello")]
BOATS = [user("Question number 0: tell me about boats")]
"""Greedy, the tiny llama answers this at length (it answers HELLO in 4 tokens, ending before a shutdown lands)."""
LONG = SamplingSettings(temperature=0.0, max_tokens=100_000)


@pytest.fixture
def held_worker(engine: Engine) -> Iterator[threading.Event]:
    """The engine's worker, busy until the returned gate is set (set at teardown at the latest)."""
    gate = threading.Event()
    engine.submit(gate.wait)
    yield gate
    gate.set()


def test_a_queued_model_load_is_cancelled_not_awaited(engine: Engine, llama_model: Path, held_worker: threading.Event) -> None:
    loading = engine.load(llama_model)
    closer = threading.Thread(target=engine.shutdown)
    closer.start()
    with pytest.raises(CancelledError):
        loading.result(timeout=30)
    held_worker.set()
    closer.join()
    assert engine.model_info is None


def test_a_queued_answer_finishes_cancelled(llama_engine: Engine, held_worker: threading.Event) -> None:
    generation = llama_engine.chat(HELLO, LONG)
    closer = threading.Thread(target=llama_engine.shutdown)
    closer.start()
    finished = generation.result(timeout=30)
    held_worker.set()
    closer.join()
    assert finished.finish_reason == "cancelled"


def test_an_answer_in_progress_is_stopped_and_the_model_freed(llama_engine: Engine) -> None:
    generation = llama_engine.chat(BOATS, LONG)
    next(iter(generation))
    llama_engine.shutdown()
    assert generation.result(timeout=0).finish_reason == "cancelled"
    assert llama_engine.model_info is None


def test_work_submitted_after_shutdown_is_cancelled(engine: Engine) -> None:
    engine.shutdown()
    assert engine.submit(lambda: 1).cancelled()
    assert engine.chat(HELLO, LONG).result(timeout=0).finish_reason == "cancelled"


def test_shutting_down_twice_returns(engine: Engine) -> None:
    engine.shutdown()
    engine.shutdown()


def test_an_answer_whose_loop_is_closed_still_finishes() -> None:
    loop = asyncio.new_event_loop()
    generation = Generation(loop)
    loop.close()
    generation.emit(Finished("", "cancelled", Stats(0, 0, 0.0, 0, 0.0, 0.0, 0)))
    assert generation.result(timeout=0).finish_reason == "cancelled"


def mlx_threads() -> set[int]:
    return {thread.ident for thread in threading.enumerate() if thread.name == "cabin-mlx"}


def test_engines_one_after_another_reuse_worker_threads_that_never_end(engine: Engine) -> None:
    first = engine.submit(threading.get_ident).result()
    engine.shutdown()
    before = mlx_threads()
    for _ in range(3):
        Engine().shutdown()
    assert first in before and mlx_threads() == before


def test_a_job_that_raises_leaves_its_thread_alive_for_the_next(monkeypatch: pytest.MonkeyPatch) -> None:
    reported: list[type[BaseException]] = []
    monkeypatch.setattr(threading, "excepthook", lambda args: reported.append(args.exc_type))
    ran_on: list[int] = []

    def broken() -> None:
        ran_on.append(threading.get_ident())
        raise RuntimeError("broken job")

    run_on_mlx_thread(broken).wait(timeout=30)
    assert reported == [RuntimeError] and ran_on[0] in mlx_threads()
