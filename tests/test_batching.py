"""Continuous batching: answers join and leave a running batch, each answered as if it ran alone."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Callable
from pathlib import Path

import pytest

from engine.generation import Engine, Finished, Generation, SamplingSettings
from engine.generation.batch_policy import BatchPolicy, TokenRate
from engine.generation.events import Token
from engine.messages import Message, assistant, system, user
from engine.models.store import model_key
from engine.speculative import DraftChoice
from tests.conftest import LiveServer, stop_after_three_tokens
from tests.test_server_concurrency import MODEL, open_stream, question, read_until, wait_for

QUESTIONS = ["What is the capital of France?", "Name three colors.", "What is 2+2?", "Tell me about boats."]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


def smollm2_chat(question: str) -> list[Message]:
    return [system("You are a helpful AI assistant."), user(question)]


def alone(engine: Engine, conversations: list[list[Message]], settings: SamplingSettings) -> list[Finished]:
    """Each answer on its own, one after the other, without the batch."""
    engine.batching.enabled = False
    try:
        return [engine.chat(messages, settings, None).result() for messages in conversations]
    finally:
        engine.batching.enabled = True


def held(engine: Engine) -> threading.Event:
    """Block the worker until the returned event is set, so the answers asked meanwhile all start at one step."""
    release = threading.Event()
    engine.submit(release.wait)
    return release


def together(engine: Engine, conversations: list[list[Message]], settings: SamplingSettings) -> list[Finished]:
    release = held(engine)
    generations = [engine.chat(messages, settings, None) for messages in conversations]
    release.set()
    return [generation.result() for generation in generations]


def tokens_until(generation: Generation, n: int) -> list[Token]:
    """Read `n` tokens of a generation that is still running."""
    tokens: list[Token] = []
    for event in generation:
        assert isinstance(event, Token), f"the answer ended after {len(tokens)} tokens"
        tokens.append(event)
        if len(tokens) == n:
            return tokens
    return tokens


@pytest.fixture
def smollm2_engine(engine: Engine, smollm2_model: Path) -> Engine:
    engine.load(smollm2_model).result()
    return engine


def test_greedy_answers_in_a_batch_are_the_answers_each_gives_alone(smollm2_engine: Engine) -> None:
    conversations = [smollm2_chat(q) for q in QUESTIONS]
    expected = alone(smollm2_engine, conversations, GREEDY)
    batched = together(smollm2_engine, conversations, GREEDY)
    assert [f.token_ids for f in batched] == [f.token_ids for f in expected]
    assert [f.text for f in batched] == [f.text for f in expected]
    assert {f.stats.batched for f in batched} == {4}
    assert [f.stats.batched for f in expected] == [0, 0, 0, 0]


def test_greedy_answers_of_a_tiny_model_in_a_batch_match_alone(llama_engine: Engine) -> None:
    conversations = [[user(f"Question number {n}: tell me about boats")] for n in range(6)]
    assert [f.token_ids for f in together(llama_engine, conversations, GREEDY)] == [
        f.token_ids for f in alone(llama_engine, conversations, GREEDY)
    ]


def test_an_answer_joins_a_running_batch_and_leaves_it_while_the_other_goes_on(smollm2_engine: Engine) -> None:
    long, short = smollm2_chat(QUESTIONS[3]), smollm2_chat(QUESTIONS[0])
    long_alone, short_alone = alone(smollm2_engine, [long, short], SamplingSettings(temperature=0.0, max_tokens=48))
    first = smollm2_engine.chat(long, SamplingSettings(temperature=0.0, max_tokens=48), None)
    before = tokens_until(first, 3)
    joining = smollm2_engine.chat(short, SamplingSettings(temperature=0.0, max_tokens=48), None)
    short_done = joining.result()
    assert not first.finished.done()  # it left while the long answer was still running
    assert short_done.token_ids == short_alone.token_ids
    assert short_done.stats.batched == 2
    assert [t.stats.batched for t in before] == [1, 1, 1]
    assert first.result().token_ids == long_alone.token_ids


def test_a_stopped_answer_leaves_at_the_next_step_and_the_rest_of_the_batch_finishes(llama_engine: Engine) -> None:
    settings = SamplingSettings(temperature=0.0, max_tokens=32)
    kept = [user("Question number 1: tell me about boats")]
    (kept_alone,) = alone(llama_engine, [kept], settings)
    release = held(llama_engine)
    staying = llama_engine.chat(kept, settings, None)
    leaving = llama_engine.chat([user("Question number 2: tell me about boats")], settings, None)
    release.set()
    stopped, _tokens, seen = stop_after_three_tokens(leaving)
    assert stopped.finish_reason == "cancelled"
    assert stopped.stats.generated_tokens <= seen + 1
    assert staying.result().token_ids == kept_alone.token_ids


def test_a_stopped_answer_keeps_its_prompt_cache_for_the_next_turn(smollm2_engine: Engine) -> None:
    settings = SamplingSettings(temperature=0.0, max_tokens=200)
    release = held(smollm2_engine)
    other = smollm2_engine.chat(smollm2_chat(QUESTIONS[3]), settings, None)
    mine = smollm2_engine.chat(smollm2_chat(QUESTIONS[1]), settings, "mine")
    release.set()
    stop_after_three_tokens(mine)
    other.stop()
    other.result()
    again = smollm2_engine.chat(smollm2_chat(QUESTIONS[1]), SamplingSettings(temperature=0.0, max_tokens=4), "mine")
    assert again.result().stats.cached_tokens > 0


def test_a_seeded_answer_runs_alone(llama_engine: Engine) -> None:
    release = held(llama_engine)
    plain = llama_engine.chat([user("boats")], SamplingSettings(temperature=0.0, max_tokens=4), None)
    seeded = llama_engine.chat([user("boats")], SamplingSettings(temperature=0.7, max_tokens=4, seed=3), None)
    release.set()
    assert plain.result().stats.batched == 1
    assert seeded.result().stats.batched == 0


def test_a_quantized_kv_cache_answers_one_at_a_time(smollm2_model: Path) -> None:
    engine = Engine(kv_bits=8)
    try:
        engine.load(smollm2_model).result()
        assert engine.loaded_kv_bits == 8
        assert not engine.kv_room.batches
        answers = together(engine, [smollm2_chat(q) for q in QUESTIONS[:2]], SamplingSettings(max_tokens=4))
        assert {f.stats.batched for f in answers} == {0}
    finally:
        engine.shutdown()


def test_llama_cpp_answers_one_at_a_time(smollm2_llamacpp: Engine) -> None:
    assert not smollm2_llamacpp.kv_room.batches
    answers = together(smollm2_llamacpp, [smollm2_chat(q) for q in QUESTIONS[:2]], GREEDY)
    assert {f.stats.batched for f in answers} == {0}


def test_with_a_draft_model_a_lone_answer_runs_alone_and_answers_together_pause_it() -> None:
    policy = BatchPolicy(draft_model=True)
    assert not policy.batches(seeded=False, others_waiting=False)
    assert policy.batches(seeded=False, others_waiting=True)
    assert policy.paused_note(3) == "speculative decoding paused: 3 requests batched"
    assert policy.paused_note(1) is None
    assert BatchPolicy().paused_note(3) is None


def test_the_aggregate_rate_counts_the_tokens_of_the_last_seconds() -> None:
    rate = TokenRate(window=2.0)
    rate.add(4, now=0.0)
    assert rate.add(4, now=0.5) == 8.0
    assert rate.add(4, now=3.0) == 0.0


def test_the_batch_status_clears_when_the_batch_ends(llama_engine: Engine) -> None:
    statuses = []
    generation = llama_engine.chat([user("boats")], GREEDY, None)
    for _event in generation:
        statuses.append(llama_engine.batch_status())
    llama_engine.submit(lambda: None).result()
    assert any(s.running == 1 and s.kv_bytes > 0 for s in statuses)
    assert llama_engine.batch_status().running == 0


# The local API


def long_stream(server: LiveServer, n: int) -> socket.socket:
    """A streamed request that would run for ever, its first chunk read."""
    body = {"model": MODEL, "messages": question(n), "max_tokens": 100_000, "temperature": 0, "stream": True}
    sock = open_stream(server, "/v1/chat/completions", body)
    read_until(sock, b"data: ")
    return sock


def test_the_windows_answer_finishes_while_three_api_streams_run(api_server: LiveServer) -> None:
    streams = [long_stream(api_server, n) for n in range(3)]
    window = api_server.engine.chat([user("Question number 9")], SamplingSettings(temperature=0, max_tokens=8), "app")
    finished = window.result(timeout=120)
    running = api_server.handle.queued
    for sock in streams:
        sock.close()
    assert finished.finish_reason == "length"
    assert finished.stats.batched == 4
    assert running == 3
    assert not api_server.handle.activity  # none of the API streams had ended


def test_a_client_that_disconnects_leaves_the_batch_and_the_others_stream_on(api_server: LiveServer) -> None:
    leaving, staying = long_stream(api_server, 1), long_stream(api_server, 2)
    leaving.close()
    wait_for(lambda: len(api_server.handle.activity) == 1)
    staying.recv(65536)
    more = staying.recv(65536)
    staying.close()
    assert api_server.handle.activity[0].finished.finish_reason == "cancelled"
    assert b"data: " in more


def test_a_request_past_the_kv_memory_budget_gets_a_503_to_retry(serve: Callable[..., LiveServer]) -> None:
    server = serve(kv_budget=1)  # one request alone always runs; nothing fits beside it
    running = long_stream(server, 1)
    refused = open_stream(server, "/v1/chat/completions", {"model": MODEL, "messages": question(2), "max_tokens": 8})
    reply = read_until(refused, b"}}")
    refused.close()
    running.close()
    head, _, body = reply.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 503")
    assert b"Retry-After: 1" in head
    assert json.loads(body[body.index(b"{"):])["error"]["code"] == "memory_budget"


def test_a_failing_batch_ends_each_answer_with_the_error_and_the_next_answers_run(
    llama_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from engine.backends.mlx_batch import MLXBatch

    real_step, steps = MLXBatch.step, []

    def failing_step(batch: MLXBatch) -> object:
        steps.append(1)
        if len(steps) == 6:
            raise RuntimeError("out of memory")
        return real_step(batch)

    monkeypatch.setattr(MLXBatch, "step", failing_step)
    failed = together(llama_engine, [[user("boats")], [user("ships")]], GREEDY)
    assert [(f.finish_reason, f.error) for f in failed] == [("error", "generation failed: out of memory")] * 2
    assert all(f.token_ids for f in failed)  # what was written before the failure is kept
    assert llama_engine.chat([user("boats")], GREEDY, None).result().finish_reason in ("stop", "length")


def test_a_cache_file_write_queued_before_a_batch_waits_for_it_without_holding_answers_back(
    llama_model: Path, tmp_path: Path
) -> None:
    from engine.generation.disk_cache import MB, CacheFolder

    engine = Engine(cache_folder=CacheFolder(tmp_path / "prompt-caches", 64 * MB))
    try:
        engine.load(llama_model).result()
        release = held(engine)
        # Seeded, so it runs alone; its file's writing is queued behind the long answer, which starts a batch.
        window = engine.chat([user("ships")], SamplingSettings(temperature=0.0, max_tokens=4, seed=1), "chat")
        long = engine.chat([user("boats")], SamplingSettings(temperature=0.0, max_tokens=100_000), None)
        release.set()
        window.result()
        tokens_until(long, 2)
        later = engine.chat([user("trains")], SamplingSettings(temperature=0.0, max_tokens=4), None).result(timeout=60)
        written_during_the_batch = engine.cache_folder.files()
        still_running = not long.finished.done()
        long.stop()
        wait_for(lambda: len(engine.cache_folder.files()) == 1)
    finally:
        engine.shutdown()
    assert later.stats.batched == 2 and still_running
    assert written_during_the_batch == []


def test_a_real_draft_model_pauses_while_answers_batch_and_drafts_again_alone(
    llama_model: Path, llama_4bit_twin: Path
) -> None:
    engine = Engine()
    engine.drafts[model_key(llama_model)] = DraftChoice(str(llama_4bit_twin), 3)
    engine.load(llama_model).result()
    try:
        alone = [engine.chat([user(q)], GREEDY, None).result() for q in QUESTIONS[:3]]
        release = held(engine)
        generations = [engine.chat([user(q)], GREEDY, None) for q in QUESTIONS[:3]]
        release.set()
        notes = [engine.batch_status().note for _event in generations[0]]
        batched = [generation.result() for generation in generations]
        again = engine.chat([user(QUESTIONS[0]), assistant(batched[0].text), user("And then?")], GREEDY, None).result()
    finally:
        engine.shutdown()
    assert [f.stats.batched for f in batched] == [3, 3, 3] and all(f.stats.draft is not None for f in alone)
    assert "speculative decoding paused: 3 requests batched" in notes
    assert [f.token_ids for f in batched] == [f.token_ids for f in alone]
    assert again.stats.batched == 0 and again.stats.draft is not None and again.stats.draft.accepted > 0
