"""Pieces shared by the `cabin` commands."""

from __future__ import annotations

import argparse
import sys
from contextlib import contextmanager
from collections.abc import Iterator

from engine.generation import Engine, Stats
from engine.memory import format_bytes
from engine.models.fit import KV_BITS
from engine.speculative import DEFAULT_NUM_DRAFT_TOKENS, MAX_NUM_DRAFT_TOKENS, DraftChoice


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text} is not a positive whole number")
    return value


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--model", required=True, help="a model folder, a repo id in the Hugging Face cache, a GGUF "
                        "file, or a model another app keeps by its name there (an Ollama model: llama3.2:3b)")
    parser.add_argument(
        "--keep-dtype",
        action="store_true",
        help="run weights as stored (by default, on the CPU backend, 4-bit and 16-bit models run in float32 when memory allows)",
    )
    parser.add_argument("--allow-oversize", action="store_true", help="load the model even if it won't fit in memory")
    parser.add_argument("--kv-bits", type=int, choices=KV_BITS,
                        help="keep the KV cache quantized to 8 or 4 bits (mlx_lm's quantized cache: about 1/2 or 1/4 "
                             "of its memory, at a small cost in quality); MLX models only, llama.cpp ignores it")  # fmt: skip
    parser.add_argument("--draft-model", metavar="MODEL",
                        help="speculative decoding: a smaller MLX model with the same tokenizer proposes tokens that the "
                             "model checks in one pass (the same answers, faster when the draft is often right)")  # fmt: skip
    parser.add_argument("--num-draft-tokens", type=draft_tokens, default=DEFAULT_NUM_DRAFT_TOKENS, metavar="N",
                        help=f"tokens the draft model proposes at a time (default {DEFAULT_NUM_DRAFT_TOKENS})")


def draft_tokens(text: str) -> int:
    value = int(text)
    if not 1 <= value <= MAX_NUM_DRAFT_TOKENS:
        raise argparse.ArgumentTypeError(f"{text} is not a number of draft tokens (1-{MAX_NUM_DRAFT_TOKENS})")
    return value


def set_draft(engine: Engine, model: str, args: argparse.Namespace) -> None:
    """Give the model `--draft-model` (when given) as its draft."""
    from engine.cli.elsewhere import model_to_load
    from engine.models.store import model_key, resolve_model

    if args.draft_model:
        choice = DraftChoice(str(model_to_load(args.draft_model)), args.num_draft_tokens)
        engine.drafts[model_key(resolve_model(model))] = choice


@contextmanager
def loaded_engine(args: argparse.Namespace) -> Iterator[Engine]:
    """An engine with the chosen model (and its draft) loaded, shut down afterwards so that no MLX call is in flight
    when Python exits."""
    from engine.cli.elsewhere import model_to_load

    engine = Engine(upcast_on_cpu=not args.keep_dtype, kv_bits=args.kv_bits)
    try:
        model = model_to_load(args.model)
        set_draft(engine, model, args)
        engine.load(model, allow_oversize=args.allow_oversize).result()
        if engine.draft_note:
            print(f"cabin: {engine.draft_note}", file=sys.stderr)
        yield engine
    finally:
        engine.shutdown()


def stats_line(stats: Stats, finish_reason: str) -> str:
    line = (
        f"{stats.generated_tokens} tokens at {stats.generation_tps:.1f} tok/s · "
        f"prompt {stats.prompt_tokens} tokens ({stats.cached_tokens} cached) at {stats.prompt_tps:.1f} tok/s · "
        f"TTFT {stats.ttft * 1000:.0f} ms · peak memory {format_bytes(stats.peak_memory)} · {finish_reason}"
    )
    return f"{line} · {stats.draft.describe(stats.generation_tps)}" if stats.draft else line
