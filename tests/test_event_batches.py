"""Generation.batches(): events grouped by arrival, for consumers that write each step to the network."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from engine.generation import Engine, Finished, Generation, SamplingSettings, Token
from engine.messages import user

HELLO = [user("Hello there")]
GREEDY = SamplingSettings(temperature=0.0, max_tokens=24)


def run_on_own_loop(main: Callable[[], Awaitable[Any]]) -> Any:
    """asyncio.run on a thread of its own (this thread may hold the app tests' qasync loop)."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=60)


def test_batches_hold_every_event_in_order_and_end_with_finished(llama_engine: Engine) -> None:
    async def collect() -> list[list]:
        generation = llama_engine.chat(HELLO, GREEDY, loop=asyncio.get_running_loop())
        return [batch async for batch in generation.batches()]

    batches = run_on_own_loop(collect)
    events = [event for batch in batches for event in batch]
    assert all(batches) and isinstance(events[-1], Finished)
    assert "".join(e.text for e in events if isinstance(e, Token)) == events[-1].text


def test_a_consumer_that_falls_behind_gets_what_arrived_in_one_batch(llama_engine: Engine) -> None:
    async def collect_late() -> list[list]:
        generation = llama_engine.chat(HELLO, GREEDY, loop=asyncio.get_running_loop())
        await asyncio.wrap_future(generation.finished)
        await asyncio.sleep(0)
        return [batch async for batch in generation.batches()]

    batches = run_on_own_loop(collect_late)
    assert len(batches) == 1 and len(batches[0]) == GREEDY.max_tokens + 1



def test_tokens_made_faster_than_the_delivery_interval_reach_the_loop_together() -> None:
    """The worker hands a loop its events at most every LOOP_DELIVERY_INTERVAL (40 ms): the first at once, then
    what piled up, and a Finished with everything before it (each hand-over wakes the loop and the API client)."""
    tokens = [Token(str(i), i, None) for i in range(10)]

    async def burst() -> list[list]:
        generation = Generation(asyncio.get_running_loop())
        consumer = asyncio.create_task(collect(generation))
        await asyncio.to_thread(lambda: [generation.emit(token) for token in tokens])  # microseconds apart
        await asyncio.to_thread(generation.emit, Finished("0123456789", "stop", None))
        return await consumer

    async def collect(generation: Generation) -> list[list]:
        return [batch async for batch in generation.batches()]

    batches = run_on_own_loop(burst)
    assert [[getattr(e, "text", None) for e in batch] for batch in batches] == [["0"], [*"123456789", "0123456789"]]
