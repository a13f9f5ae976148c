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
    parser.add_argument(
        "--selftest",
        nargs="?",
        const="",
        metavar="MODEL",
        help="check this installation (window offscreen, MLX, export libraries; with MODEL, a few tokens) and exit",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    for command in COMMANDS:
        command.register(commands)
    return parser


def open_app() -> int:
    from app.desktop_libraries import check_desktop_libraries

    check_desktop_libraries()  # before Qt is imported: its own failure is a page of text and an abort
    from app.main import run_app

    return run_app()


def run_selftest(model: str) -> int:
    from app.selftest import run_selftest

    return run_selftest(model or None)


def main(argv: list[str] | None = None) -> int:
    multiprocessing.freeze_support()  # a frozen Cabin.app re-enters here for the export's child process
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.selftest is not None:
            return run_selftest(args.selftest)
        if args.command is None:
            return open_app()
        return args.run(args)
    except CabinError as e:
        print(f"cabin: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(file=sys.stderr)
        return 130
