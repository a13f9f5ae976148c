"""The local API against the engine called directly: same model, same prompts, same run.

Prints decode tok/s and requests/s through `cabin serve` (HTTP, in its own process, as a client sees
it) against the engine in this process (ratio; goal >= 0.95), and time to first token for requests
that share a long system prompt: the first one (nothing cached) vs the next ones (prefix cached).

    .venv/bin/python bench/api_vs_engine.py [--model PATH | --layers 6 --hidden 384] [--tokens 128] [--requests 16]

Without --model a random float32 llama is built locally; --model takes a model folder or a GGUF file (which runs on
llama.cpp, on the API's side as on the engine's).
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp  # noqa: E402

from bench.openai_stream import timed_stream  # noqa: E402
from engine.generation import Engine, SamplingSettings, Token  # noqa: E402
from engine.messages import Message, system, user  # noqa: E402
from tests.model_factory import build_model, llama_of_size  # noqa: E402

SYSTEM = ("You are Cabin, a helpful local assistant. " * 30).strip()


def question(n: int) -> list[Message]:
    return [user(f"Question {n}: tell me about the weather, code, tables and lists.")]


def with_system(n: int) -> list[Message]:
    return [system(SYSTEM), *question(n)]


def decode_rate(times: list[float]) -> float:
    """Tokens per second after the first one (nan when they all arrived at once)."""
    span = times[-1] - times[0]
    return (len(times) - 1) / span if span > 0 else float("nan")


# -- the engine, directly ----------------------------------------------------------------------
def direct_stream(engine: Engine, messages: list[Message], max_tokens: int) -> tuple[float, float, int]:
    """(TTFT s, decode tok/s after the first token, tokens), timed where the events arrive."""
    start = time.perf_counter()
    times = [time.perf_counter() for event in engine.chat(messages, SamplingSettings(0.0, max_tokens=max_tokens), None)
             if isinstance(event, Token)]
    return times[0] - start, decode_rate(times), len(times)


def direct_requests_per_second(engine: Engine, count: int, max_tokens: int) -> float:
    start = time.perf_counter()
    generations = [engine.chat(question(n), SamplingSettings(0.0, max_tokens=max_tokens), None) for n in range(count)]
    for generation in generations:
        generation.result()
    return count / (time.perf_counter() - start)


# -- the same through HTTP ----------------------------------------------------------------------
def wire(messages: list[Message]) -> list[dict[str, str]]:
    """The messages as an OpenAI client sends them."""
    return [{"role": message.role, "content": message.text} for message in messages]


async def api_stream(
    session: aiohttp.ClientSession, url: str, model: str, messages: list[Message], max_tokens: int
) -> tuple[float, float, int, int]:
    """(TTFT s, decode tok/s after the first token, tokens, cached prompt tokens)."""
    start = time.perf_counter()
    body = {"model": model, "messages": wire(messages), "max_tokens": max_tokens, "temperature": 0}
    times, usage = await timed_stream(session, url, body)
    tokens = usage["completion_tokens"]
    span = times[-1] - times[0]
    rate = (tokens - 1) / span if span > 0 else float("nan")  # a chunk may carry several tokens
    return times[0] - start, rate, tokens, usage["prompt_tokens_details"]["cached_tokens"]


async def api_requests_per_second(session: aiohttp.ClientSession, url: str, model: str, count: int, max_tokens: int) -> float:
    async def ask(n: int) -> None:
        body = {"model": model, "messages": wire(question(n)), "max_tokens": max_tokens, "temperature": 0}
        async with session.post(f"{url}/v1/chat/completions", json=body) as response:
            assert response.status == 200, await response.text()
            await response.json()

    start = time.perf_counter()
    await asyncio.gather(*(ask(n) for n in range(count)))
    return count / (time.perf_counter() - start)


def start_server(model: Path) -> tuple[subprocess.Popen, str]:
    process = subprocess.Popen([sys.executable, "-m", "cabin", "serve", "--model", str(model), "--port", "0",
                                "--max-queue", "1000"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    return process, re.search(r"at (http://\S+) —", process.stdout.readline()).group(1)


async def measure(model: Path, args: argparse.Namespace) -> tuple[dict, dict]:
    """Both sides measured in turn, round after round, so that load from other processes hits both alike."""
    engine = Engine()
    name = engine.load(model).result().name
    process, url = start_server(model)
    direct, api = {"decode": [], "rps": []}, {"decode": [], "rps": []}
    try:
        async with aiohttp.ClientSession() as session:
            direct_stream(engine, question(-1), 4)
            await api_stream(session, url, name, question(-1), 4)
            for _ in range(args.repeat):
                direct["decode"].append(direct_stream(engine, question(-2), args.tokens))
                api["decode"].append(await api_stream(session, url, name, question(-2), args.tokens))
                direct["rps"].append(direct_requests_per_second(engine, args.requests, 8))
                api["rps"].append(await api_requests_per_second(session, url, name, args.requests, 8))
            direct["prefix"] = [direct_stream(engine, with_system(n), 4) for n in range(4)]
            api["prefix"] = [await api_stream(session, url, name, with_system(n), 4) for n in range(4)]
    finally:
        process.terminate()
        process.wait()
        engine.shutdown()
    return summary(direct), {**summary(api), "cached": api["prefix"][-1][3], "paired": paired_ratios(direct, api)}


def paired_ratios(direct: dict, api: dict) -> list[float]:
    """API decode tok/s over the engine's in the same round: load that shifts between rounds cancels out."""
    return sorted(a[1] / d[1] for d, a in zip(direct["decode"], api["decode"]))


def summary(runs: dict) -> dict[str, float]:
    return {"decode": statistics.median(d[1] for d in runs["decode"]), "tokens": runs["decode"][0][2],
            "rps": statistics.median(runs["rps"]), "cold_ttft": runs["prefix"][0][0],
            "warm_ttft": statistics.median(p[0] for p in runs["prefix"][1:])}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a model folder or a GGUF file (default: a random llama built here)")
    parser.add_argument("--layers", type=int, default=6)
    parser.add_argument("--hidden", type=int, default=384)
    parser.add_argument("--tokens", type=int, default=128)
    parser.add_argument("--requests", type=int, default=16)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        model = args.model or build_model(Path(tmp) / "bench-llama", llama_of_size(args.hidden, args.layers))
        direct, api = asyncio.run(measure(model, args))

    described = args.model or f"random llama, {args.layers} layers, hidden {args.hidden}, float32"
    print(f"model: {described}; {direct['tokens']}-token answers, {args.requests} concurrent 8-token requests")
    print(f"{'':34}{'engine':>10}{'API':>10}{'ratio':>8}")
    for label, key, unit in (("decode tok/s (streamed)", "decode", ""), ("requests/s (8 tokens each)", "rps", ""),
                             ("TTFT, first with system prompt", "cold_ttft", "ms"),
                             ("TTFT, next ones (prefix cached)", "warm_ttft", "ms")):
        scale = 1000 if unit else 1
        print(f"{label:34}{direct[key] * scale:10.1f}{api[key] * scale:10.1f}{api[key] / direct[key]:8.3f}")
    paired = api["paired"]
    print(f"decode ratio per round (API/engine, same round): median {statistics.median(paired):.3f}, "
          f"range {paired[0]:.3f}-{paired[-1]:.3f} over {len(paired)} rounds")
    print(f"API: {api['cached']} of the system-prompted prompt's tokens came from the cache; "
          f"warm/cold TTFT through the API {api['warm_ttft'] / api['cold_ttft']:.2f}")


if __name__ == "__main__":
    main()
