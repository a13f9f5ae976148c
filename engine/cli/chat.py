"""`cabin chat`: one streamed answer with --prompt, else an interactive multi-turn chat in the terminal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from engine.attachments import read_attachment
from engine.cli.common import add_model_arguments, loaded_engine, positive_int, stats_line
from engine.conversations.history import History
from engine.errors import CabinError
from engine.generation import Engine, Finished, SamplingSettings, Token
from engine.images import image_file, refuse_for_text_model
from engine.library.documents import Documents
from engine.messages import File, Image, Message

if TYPE_CHECKING:
    from engine.library.store import Citation

HELP = "Commands: /reset starts over, /quit leaves (or Ctrl-D). Ctrl-C stops an answer."


def print_sources(citations: list[Citation]) -> None:
    """An answer's sources, after it: [n] file, page — path."""
    if citations:
        print("Sources:")
    for citation in citations:
        print(f"[{citation.rank}] {citation.label} — {citation.path}")


def register(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--prompt", help="answer this one prompt and exit")
    parser.add_argument("--system", help="system prompt")
    parser.add_argument("--file", action="append", type=Path, default=[], metavar="PATH",
                        help="attach a text, Markdown, code or PDF file to the (first) question; repeatable")  # fmt: skip
    parser.add_argument("--image", action="append", type=Path, default=[], metavar="PATH",
                        help="attach an image (PNG, JPEG...) to the (first) question, for a vision model; repeatable")  # fmt: skip
    parser.add_argument("--library", action="append", default=[], metavar="NAME",
                        help="answer from the documents of this library (cabin library add); repeatable")  # fmt: skip
    parser.add_argument("--max-tokens", type=positive_int, default=512)
    parser.add_argument("--temp", type=float, default=0.7, help="temperature (0 = greedy)")
    parser.add_argument("--top-p", type=float, default=1.0)
    parser.add_argument("--min-p", type=float, default=0.0)
    parser.add_argument("--repetition-penalty", type=float, default=1.0)
    parser.add_argument("--seed", type=int)
    parser.add_argument(
        "--context-length",
        type=positive_int,
        help="most tokens the model sees at once, prompt plus answer; older messages are left out beyond it "
        "(default: no limit; never more than the model was trained for)",
    )
    parser.set_defaults(run=run)


def settings_from(args: argparse.Namespace) -> SamplingSettings:
    try:
        return SamplingSettings(
            temperature=args.temp,
            top_p=args.top_p,
            min_p=args.min_p,
            repetition_penalty=args.repetition_penalty,
            max_tokens=args.max_tokens,
            seed=args.seed,
            context_length=args.context_length,
        )
    except ValueError as e:
        raise CabinError(str(e)) from None


def stream_answer(
    engine: Engine, messages: list[Message], settings: SamplingSettings, documents: Documents | None = None
) -> Finished:
    """Print the answer as it streams, then its sources when it drew on `documents`; Ctrl-C stops it and keeps
    what was said."""
    retrieval = documents.retrieval() if documents else None
    generation = engine.chat(messages, settings, augment=retrieval)
    try:
        for event in generation:
            if isinstance(event, Token):
                sys.stderr.write(event.reasoning)  # the thinking, kept out of a piped answer
                sys.stdout.write(event.text)
                sys.stdout.flush()
    except KeyboardInterrupt:
        generation.stop()
    finished = generation.result()
    print()
    if retrieval is not None and retrieval.cited.done() and not retrieval.cited.exception():
        print_sources(retrieval.cited.result())
    if finished.error:
        print(f"cabin: error: {finished.error}", file=sys.stderr)
    print(stats_line(finished.stats, finished.finish_reason), file=sys.stderr)
    return finished


def interactive(
    engine: Engine, args: argparse.Namespace, settings: SamplingSettings, files: list[File | Image],
    documents: Documents | None,
) -> int:
    print(f"Chatting with {engine.model_info.name}. {HELP}", file=sys.stderr)
    history = History(args.system or "")
    while True:
        try:
            line = input(">>> ").strip()
        except KeyboardInterrupt:
            print()
            continue
        except EOFError:
            print()
            return 0
        if line == "/quit":
            return 0
        if line == "/reset":
            history.clear()
            engine.forget("default")
            print("(conversation cleared)", file=sys.stderr)
            continue
        if not line:
            continue
        finished = stream_answer(engine, history.ask(line, files), settings, documents)
        history.answered(finished.text, finished.reasoning)
        files = []


def run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    files = [read_attachment(path) for path in args.file]  # a file that cannot be read stops here, in one line
    files += [image_file(path) for path in args.image]  # so does an image
    with loaded_engine(args) as engine:
        info = engine.model_info
        refuse_for_text_model(len(args.image), info.name if info else "this model", bool(info and info.vision))
        documents = Documents.named(engine, args.library) if args.library else None
        if args.prompt is None:
            return interactive(engine, args, settings, files, documents)
        finished = stream_answer(engine, History(args.system or "").ask(args.prompt, files), settings, documents)
        return 1 if finished.finish_reason == "error" else 0
