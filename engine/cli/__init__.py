"""`cabin`: the command line. With no command it opens the desktop app.

Every problem a user can cause (a bad model path, a bad flag value) ends as one line on stderr and a
non-zero exit status, never a traceback.
"""

from __future__ import annotations

import argparse
import multiprocessing
import sys

from engine import __version__
from engine.cli import bench, chat, models, serve
from engine.cli import export as export_coreml
from engine.errors import CabinError

COMMANDS = (chat, bench, models, serve, export_coreml)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="cabin", description="Cabin: a local-first AI assistant on MLX.")
    parser.add_argument("--version", action="version", version=f"cabin {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def open_app() -> int:
    from app.main import run_app

    return run_app()


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen Cabin.app re-enters here for the export's child process
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return open_app()
        return args.run(args)
    except CabinError as e:
        print(f"cabin: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
