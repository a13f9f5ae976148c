"""Time to first token on turn 10 of a long chat, after a restart, with and without the prompt-cache files.

The chat (the real SmolLM2 on MLX): nine turns, each user message a few hundred tokens, greedy answers. Then turn 10
is answered three ways, each a fresh first token measured on the caller's clock from the request to the first token
(what a user waits for; it includes reading the file):
  warm        the same engine, no restart: the cache is in memory (the reference);
  restart     a new engine on the same data folder: the cache is read from its file on this first answer;
  no files    a new engine without the files: the whole history is prefilled again.
Also printed: writing the file after turn 9, and mlx_lm's own `load_prompt_cache` of it, in this process.

    .venv/bin/python bench/prompt_cache_restart.py [--rounds 3] [--words 220] [--answer-tokens 48]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.smollm2 import smollm2_model  # noqa: E402
from engine.generation import Engine, SamplingSettings, Token  # noqa: E402
from engine.generation.disk_cache import MB, CacheFolder  # noqa: E402
from engine.messages import Message, assistant, system, user  # noqa: E402

CONVERSATION = "long-chat"
TOPICS = ("rivers", "bridges", "lighthouses", "glaciers", "libraries", "orchards", "harbours", "deserts", "forests",
          "railways")  # fmt: skip
SENTENCE = ("The {topic} of the northern valley were described in the old survey, with notes on their age, their "
            "shape, the people who looked after them and the seasons that changed them. ")  # fmt: skip


def question(turn: int, words: int) -> Message:
    """A user message of about `words` words (~1.3 tokens each) about one topic, ending with a question."""
    topic = TOPICS[turn % len(TOPICS)]
    sentence = SENTENCE.format(topic=topic)
    body = sentence * max(1, words // len(sentence.split()))
    return user(f"{body}Summarise what the survey says about the {topic} in two sentences.")


def open_engine(model: Path, folder: Path | None) -> Engine:
    engine = Engine(cache_folder=CacheFolder(folder, 2048 * MB) if folder else None)
    engine.load(model).result()
    return engine


def first_token_seconds(engine: Engine, messages: list[Message], settings: SamplingSettings) -> tuple[float, int, int]:
    """(seconds from the request to the first token, cached tokens, prompt tokens) for one answer."""
    started = time.perf_counter()
    generation = engine.chat(messages, settings, conversation_id=CONVERSATION)
    first = None
    for event in generation:
        if first is None and isinstance(event, Token):
            first = time.perf_counter() - started
    finished = generation.result()
    return first or finished.stats.ttft, finished.stats.cached_tokens, finished.stats.prompt_tokens


def nine_turns(engine: Engine, words: int, settings: SamplingSettings) -> list[Message]:
    messages = [system("You are a helpful AI assistant.")]
    for turn in range(9):
        messages.append(question(turn, words))
        messages.append(assistant(engine.chat(messages, settings, conversation_id=CONVERSATION).result().text))
    return messages + [question(9, words)]


def restarted(
    model: Path, folder: Path | None, messages: list[Message], settings: SamplingSettings
) -> tuple[float, int, int]:
    engine = open_engine(model, folder)
    try:
        return first_token_seconds(engine, messages, settings)
    finally:
        engine.shutdown()


def raw_load_seconds(file: Path) -> float:
    """mlx_lm's own read of the same file, evaluated, on this thread."""
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm.models.cache import load_prompt_cache

    started = time.perf_counter()
    kv = load_prompt_cache(str(file))
    mx.eval([a for _, a in tree_flatten([layer.state for layer in kv]) if isinstance(a, mx.array)])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--words", type=int, default=220, help="words per user message")
    parser.add_argument("--answer-tokens", type=int, default=48)
    args = parser.parse_args()
    settings = SamplingSettings(temperature=0.0, max_tokens=args.answer_tokens)
    model = smollm2_model()
    work = Path(tempfile.mkdtemp(prefix="cabin-bench-pc-"))
    saved, kept = work / "data", work / "after-turn-9"

    engine = open_engine(model, saved)
    messages = nine_turns(engine, args.words, settings)
    started = time.perf_counter()
    engine.save_cache_files().result()
    write = time.perf_counter() - started
    shutil.copytree(saved, kept)
    (file,) = kept.glob("*.safetensors")
    warm = [first_token_seconds(engine, messages, settings)]
    engine.shutdown()

    with_files, without = [], []
    for _ in range(args.rounds):
        shutil.rmtree(saved)
        shutil.copytree(kept, saved)
        with_files.append(restarted(model, saved, messages, settings))
        without.append(restarted(model, None, messages, settings))
    raw = raw_load_seconds(file)

    def median(runs: list[tuple[float, int, int]]) -> float:
        return statistics.median(run[0] for run in runs)

    print(f"turn 10 of a chat on {model.name}: a {warm[0][2]}-token prompt, file {file.stat().st_size / MB:.1f} MB; "
          f"cached tokens: warm {warm[0][1]}, restart {with_files[0][1]}, no files {without[0][1]}")
    print(f"  warm (no restart)        TTFT {median(warm) * 1000:8.0f} ms")
    print(f"  restart, with the files  TTFT {median(with_files) * 1000:8.0f} ms  "
          f"({median(with_files) / median(warm):.2f}x warm)")
    print(f"  restart, no files        TTFT {median(without) * 1000:8.0f} ms  "
          f"({median(without) / median(warm):.2f}x warm, {median(without) / median(with_files):.1f}x with the files)")
    print(f"  writing the file after turn 9: {write * 1000:.0f} ms; mlx_lm load_prompt_cache of it: {raw * 1000:.0f} ms")
    print(f"  (median of {args.rounds} restarts each; runs: with {[round(run[0], 3) for run in with_files]}, "
          f"without {[round(run[0], 3) for run in without]})")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
