"""Inference backends: a model's format picks its backend, and a backend runs only on the thread that loaded it
(the engine's worker): the worker-thread-only rule, asserted in code."""

from __future__ import annotations

from collections.abc import Callable
from threading import Event as StopFlag
from typing import Any

import pytest

from engine.backends.base import Backend
from engine.backends.mlx import MLXBackend
from engine.generation import Engine, SamplingSettings
from engine.messages import user

GREEDY = SamplingSettings(temperature=0.0, max_tokens=4)
OFF_THREAD = "only on the engine's worker thread"

CALLS: dict[str, Callable[[Backend], Any]] = {
    "tokenizer": lambda backend: backend.tokenizer,
    "model": lambda backend: backend.model,
    "new_cache": lambda backend: backend.new_cache(),
    "trim_cache": lambda backend: backend.trim_cache([], 1),
    "copy_cache": lambda backend: backend.copy_cache([]),
    "generate": lambda backend: backend.generate([1, 2, 3], [], GREEDY, StopFlag()),
    "memory": lambda backend: backend.memory(),
    "reset_peak_memory": lambda backend: backend.reset_peak_memory(),
    "release": lambda backend: backend.release(),
}


def loaded_backend(engine: Engine) -> Backend:
    return engine.run_with_backend(lambda backend: backend).result()


def test_an_mlx_folder_is_run_by_the_mlx_backend(llama_engine: Engine) -> None:
    assert type(loaded_backend(llama_engine)) is MLXBackend


@pytest.mark.parametrize("call", CALLS.values(), ids=CALLS.keys())
def test_a_backend_call_from_another_thread_fails(llama_engine: Engine, call: Callable[[Backend], Any]) -> None:
    backend = loaded_backend(llama_engine)
    with pytest.raises(RuntimeError, match=OFF_THREAD):
        call(backend)


def test_a_token_stream_started_on_the_worker_cannot_be_read_on_another_thread(llama_engine: Engine) -> None:
    def start(backend: Backend) -> Any:
        return backend.generate(backend.tokenizer.encode("Hello"), backend.new_cache(), GREEDY, StopFlag())

    steps = llama_engine.run_with_backend(start).result()
    with pytest.raises(RuntimeError, match=OFF_THREAD):
        next(steps)


def test_the_same_calls_work_on_the_worker(llama_engine: Engine) -> None:
    def answer(backend: Backend) -> list[int]:
        prompt = backend.tokenizer.encode("Hello")
        return [step.token for step in backend.generate(prompt, backend.new_cache(), GREEDY, StopFlag())]

    assert len(llama_engine.run_with_backend(answer).result()) == GREEDY.max_tokens


def test_a_refused_call_leaves_the_engine_answering(llama_engine: Engine) -> None:
    with pytest.raises(RuntimeError, match=OFF_THREAD):
        loaded_backend(llama_engine).release()
    assert llama_engine.chat([user("Hi")], GREEDY).result().finish_reason in ("stop", "length")
