"""Continuous batching through the local API, on the real SmolLM2 (or --model), against mlx_lm's own batch_generate.

Prints, for 1, 2, 4 and 8 concurrent streamed API requests: the aggregate decode tok/s (every token streamed,
from the first token to the last, over that span) and its ratio to one request alone (goal: >= 2.5x at 4); the
same 4 requests with batching off (one after the other, as before batching); mlx_lm's batch_generate on the same
loaded model and prompts (its own generation tok/s); and the window's own answer (engine.chat, as the app asks)
alone and while 3 API clients stream.

    .venv/bin/python bench/batching.py [--model PATH] [--tokens 48] [--clients 1 2 4 8] [--repeat 2]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import os
import statistics
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402

from bench.openai_stream import timed_stream  # noqa: E402
from bench.smollm2 import imported_model, installed_gguf  # noqa: E402
from engine.generation import Engine, SamplingSettings, Token  # noqa: E402
from engine.messages import system, user  # noqa: E402
from engine.server import ServerConfig, start_server  # noqa: E402

SYSTEM = "You are a helpful AI assistant."
TOPICS = ["boats", "mountains", "bread", "trains", "the sea", "libraries", "bees", "winter", "clocks", "rivers"]


def ask(n: int) -> str:
    return f"Write a long, detailed essay about {TOPICS[n % len(TOPICS)]}."


async def stream(session: aiohttp.ClientSession, url: str, model: str, n: int, tokens: int) -> tuple[float, float, int]:
    """One streamed request: (first token at, last token at, tokens generated)."""
    body = {"model": model, "messages": [{"role": "system", "content": SYSTEM}, {"role": "user", "content": ask(n)}],
            "max_tokens": tokens, "temperature": 0}
    times, usage = await timed_stream(session, url, body)
    return times[0], times[-1], usage["completion_tokens"]


async def aggregate(session: aiohttp.ClientSession, url: str, model: str, clients: int, tokens: int) -> float:
    """Decode tok/s of `clients` concurrent streams together: tokens after each one's first, over the whole span."""
    runs = await asyncio.gather(*(stream(session, url, model, n, tokens) for n in range(clients)))
    span = max(last for _, last, _ in runs) - min(first for first, _, _ in runs)
    return sum(generated - 1 for _, _, generated in runs) / span


def window_rate(engine: Engine, tokens: int) -> float:
    """The window's answer (engine.chat on a conversation, as the app asks): decode tok/s after its first token."""
    settings = SamplingSettings(temperature=0.0, max_tokens=tokens)
    times = [time.perf_counter() for event in engine.chat([system(SYSTEM), user(ask(99))], settings, "window")
             if isinstance(event, Token)]
    engine.forget("window").result()
    return (len(times) - 1) / (times[-1] - times[0])


async def window_beside(engine: Engine, session: aiohttp.ClientSession, url: str, model: str, tokens: int) -> float:
    """The window's tok/s while 3 API clients stream answers long enough to outlast it."""
    clients = [asyncio.create_task(stream(session, url, model, n, tokens * 3)) for n in range(3)]
    while engine.batch_status().running < 3:
        await asyncio.sleep(0.01)
    rate = await asyncio.to_thread(window_rate, engine, tokens)
    for client in clients:
        client.cancel()
    await asyncio.gather(*clients, return_exceptions=True)
    return rate


def mlx_lm_batch(engine: Engine, clients: int, tokens: int) -> float:
    """mlx_lm's own batch_generate, on the model Cabin loaded: its generation tok/s."""
    from mlx_lm import batch_generate

    def run(model: object, tokenizer: object) -> float:
        prompts = [tokenizer.apply_chat_template([{"role": "system", "content": SYSTEM},
                                                  {"role": "user", "content": ask(n)}], add_generation_prompt=True)
                   for n in range(clients)]
        return batch_generate(model, tokenizer, prompts, max_tokens=tokens).stats.generation_tps

    return engine.run_with_model(run).result()


async def one_round(engine: Engine, session: aiohttp.ClientSession, url: str, model: str,
                    args: argparse.Namespace) -> dict[str, object]:
    results: dict[str, object] = {"api": {}, "mlx_lm": {}}
    for n in args.clients:
        results["api"][n] = await aggregate(session, url, model, n, args.tokens)
        results["mlx_lm"][n] = await asyncio.to_thread(mlx_lm_batch, engine, n, args.tokens)
    engine.batching.enabled = False
    results["serial4"] = await aggregate(session, url, model, 4, args.tokens)
    engine.batching.enabled = True
    results["window_alone"] = await asyncio.to_thread(window_rate, engine, args.tokens)
    results["window_beside"] = await window_beside(engine, session, url, model, args.tokens)
    return results


async def measure(engine: Engine, model: str, args: argparse.Namespace) -> list[dict[str, object]]:
    """Every figure once per round, in turn, so that load from other processes hits them alike."""
    handle = await start_server(engine, ServerConfig(port=0, max_queue=100))
    try:
        async with aiohttp.ClientSession() as session:
            await stream(session, handle.url, model, 0, 4)  # warm up
            return [await one_round(engine, session, handle.url, model, args) for _ in range(args.repeat)]
    finally:
        await handle.close()


def medians(rounds: list[dict]) -> dict:
    """The median of each figure over the rounds."""
    first = rounds[0]
    return {key: ({n: statistics.median(r[key][n] for r in rounds) for n in value} if isinstance(value, dict)
                  else statistics.median(r[key] for r in rounds)) for key, value in first.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an MLX model folder (default: the real SmolLM2 imported)")
    parser.add_argument("--tokens", type=int, default=48)
    parser.add_argument("--clients", type=int, nargs="+", default=[1, 2, 4, 8])
    parser.add_argument("--repeat", type=int, default=2)
    args = parser.parse_args()
    path = args.model or imported_model(installed_gguf())
    engine = Engine()
    try:
        name = engine.load(path).result().name
        results = medians(asyncio.run(measure(engine, name, args)))
    finally:
        engine.shutdown()
    report(results, path, args)


def report(results: dict, path: Path, args: argparse.Namespace) -> None:
    api, mlx_lm, one = results["api"], results["mlx_lm"], results["api"][args.clients[0]]
    print(f"model: {path.name}; {args.tokens}-token greedy answers streamed through the local API; "
          f"median of {args.repeat} rounds; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    print(f"{'clients':>8}{'aggregate tok/s':>17}{'vs one alone':>14}{'mlx_lm batch_generate':>23}{'Cabin/mlx_lm':>14}")
    for n in args.clients:
        print(f"{n:>8}{api[n]:17.1f}{api[n] / one:13.2f}x{mlx_lm[n]:23.1f}{api[n] / mlx_lm[n]:14.2f}")
    print(f"4 clients with batching off (one after the other): {results['serial4']:.1f} tok/s "
          f"({results['serial4'] / one:.2f}x one alone)")
    print(f"window answer: {results['window_alone']:.1f} tok/s alone, {results['window_beside']:.1f} tok/s "
          f"beside 3 API clients ({results['window_beside'] / results['window_alone']:.2f}x)")


if __name__ == "__main__":
    main()
