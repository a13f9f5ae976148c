"""The `cabin` commands (chat, bench, models, serve, export-coreml, export-onnx), headless.

`cabin` itself (cabin/main.py) builds its parser from here and adds what needs the app (no command opens the
window; `--selftest`). `python -m engine.cli COMMAND ...` runs the same commands without the app.

Each command lives in its own module, imported only when that command is on the command line: building the
parser for `cabin --help`, `--version` or the window imports none of MLX, transformers, torch or aiohttp.
Every problem a user can cause (a bad model path, a bad flag value) ends as one line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Callable, Sequence
from typing import NamedTuple

from engine import __version__
from engine.errors import CabinError


class Command(NamedTuple):
    module: str
    """Its module's `register(parser)` adds the arguments and sets `run`."""
    summary: str


COMMANDS = {
    "chat": Command("engine.cli.chat", "chat with a model in the terminal"),
    "bench": Command("engine.cli.bench", "measure prompt and generation speed"),
    "models": Command("engine.cli.models", "list, download, convert, import and delete models"),
    "library": Command("engine.cli.library", "document libraries to chat with: add, list, update, search, remove"),
    "serve": Command("engine.cli.serve", "serve a model over OpenAI- and Ollama-compatible HTTP APIs"),
    "export-coreml": Command("engine.cli.export", "export a model as a stateful Core ML package for iOS 18 / macOS 15"),
    "export-onnx": Command("engine.cli.export_onnx", "export a model for ONNX Runtime GenAI (Android), checked by running it"),
}


def chosen_command(argv: Sequence[str]) -> str | None:
    return next((arg for arg in argv if arg in COMMANDS), None)


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    """The parser for `argv`: every command is listed, only the one `argv` names has its arguments (and imports)."""
    parser = argparse.ArgumentParser(prog="cabin", description="Cabin: a local-first AI assistant on MLX.")
    parser.add_argument("--version", action="version", version=f"cabin {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    chosen = chosen_command(argv)
    for name, command in COMMANDS.items():
        subparser = commands.add_parser(name, help=command.summary, description=command.summary)
        if name == chosen:
            importlib.import_module(command.module).register(subparser)
    return parser


def reporting_errors(action: Callable[[], int]) -> int:
    """Run `action`; a CabinError becomes one line on stderr and exit status 1, Ctrl-C exit status 130."""
    try:
        return action()
    except CabinError as e:
        print(f"cabin: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130


def run(args: argparse.Namespace) -> int:
    """Run the command `args` were parsed for."""
    return reporting_errors(lambda: args.run(args))


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.error("choose a command (run `cabin` for the desktop app)")
    return run(args)
