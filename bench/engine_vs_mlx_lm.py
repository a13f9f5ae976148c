"""Cabin's engine against raw mlx_lm, same model, same prompt, same run.

Prints decode and prompt tok/s ratios (goal >= 0.98) and time to first token on turn 10 of a chat
vs turn 1, with the prompt cache (goal <= 1.2) and without it.

    .venv/bin/python bench/engine_vs_mlx_lm.py [--layers 16] [--hidden 768] [--tokens 64] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import mlx_lm  # noqa: E402
from mlx.utils import tree_flatten  # noqa: E402

from engine.generation import Engine, SamplingSettings  # noqa: E402
from engine.chat_template import template_messages  # noqa: E402
from engine.messages import Message, assistant, system, user  # noqa: E402
from tests.model_factory import build_model, llama_of_size  # noqa: E402

QUESTION = "Tell me about the weather, code, tables and lists, and how a local assistant answers."


def raw_mlx_lm(model_path: Path, messages: list[Message], max_tokens: int) -> tuple[float, float]:
    """(prompt tok/s, generation tok/s) from mlx_lm.stream_generate on this thread."""
    model, tokenizer = raw_mlx_lm.loaded.setdefault(model_path, mlx_lm.load(str(model_path)))
    prompt = tokenizer.apply_chat_template(template_messages(messages), add_generation_prompt=True)
    *_, last = mlx_lm.stream_generate(model, tokenizer, prompt, max_tokens=max_tokens)
    return last.prompt_tps, last.generation_tps


raw_mlx_lm.loaded = {}


def cabin(engine: Engine, messages: list[Message], max_tokens: int, conversation: str) -> tuple[float, float]:
    stats = engine.chat(messages, SamplingSettings(temperature=0, max_tokens=max_tokens), conversation).result().stats
    return stats.prompt_tps, stats.generation_tps


def chat_ttfts(engine: Engine, turns: int, max_tokens: int, reuse_cache: bool) -> list[float]:
    settings = SamplingSettings(temperature=0, max_tokens=max_tokens)
    messages, ttfts = [system("You are Cabin, a helpful local assistant.")], []
    for turn in range(turns):
        messages.append(user(f"Question {turn}: {QUESTION}"))
        conversation = "chat" if reuse_cache else f"fresh-{turn}"
        answer = engine.chat(messages, settings, conversation).result()
        messages.append(assistant(answer.text))
        ttfts.append(answer.stats.ttft)
    return ttfts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--layers", type=int, default=16)
    parser.add_argument("--hidden", type=int, default=768)
    parser.add_argument("--tokens", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    spec = llama_of_size(args.hidden, args.layers)
    with tempfile.TemporaryDirectory() as tmp:
        path = build_model(Path(tmp) / "bench-llama", spec)
        model, _ = raw_mlx_lm.loaded.setdefault(path, mlx_lm.load(str(path)))
        params = sum(v.size for _, v in tree_flatten(model.parameters()))
        print(f"model: random llama, {params / 1e6:.0f}M parameters, float32, {args.tokens} tokens per answer")

        engine = Engine()
        engine.load(path).result()
        messages = [user(QUESTION)]
        raw_mlx_lm(path, messages, 4)
        cabin(engine, messages, 4, "warmup")
        raw, ours = [], []
        for i in range(args.repeat):
            raw.append(raw_mlx_lm(path, messages, args.tokens))
            ours.append(cabin(engine, messages, args.tokens, f"run-{i}"))
        with_cache = chat_ttfts(engine, 10, 16, reuse_cache=True)
        without_cache = chat_ttfts(engine, 10, 16, reuse_cache=False)
        engine.shutdown()

    med = lambda runs, i: statistics.median(r[i] for r in runs)  # noqa: E731
    print(f"{'':24}{'mlx_lm':>12}{'cabin':>12}{'ratio':>8}")
    for label, i in (("prompt tok/s", 0), ("decode tok/s", 1)):
        print(f"{label:24}{med(raw, i):12.1f}{med(ours, i):12.1f}{med(ours, i) / med(raw, i):8.3f}")
    print(f"TTFT turn 1 -> turn 10, prompt cache:    {with_cache[0] * 1000:7.1f} ms -> {with_cache[-1] * 1000:7.1f} ms"
          f"  ratio {with_cache[-1] / with_cache[0]:.2f}")
    print(f"TTFT turn 1 -> turn 10, no prompt cache: {without_cache[0] * 1000:7.1f} ms -> {without_cache[-1] * 1000:7.1f} ms"
          f"  ratio {without_cache[-1] / without_cache[0]:.2f}")


if __name__ == "__main__":
    main()
