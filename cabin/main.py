"""`cabin`: with no command it opens the desktop app; `cabin --selftest` checks the installation; any other
command is the headless command line (engine/cli).

Launching it must stay cheap: the app and each command import their heavy libraries only once chosen, so
`cabin --version` answers at once and the window paints before MLX is imported. (The frozen app's
packaging/cabin_launcher.py handles the "spawn" child processes before it calls `main`.)
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from engine import cli


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = cli.build_parser(argv)
    parser.description = "Cabin: a local-first AI assistant on MLX. With no command it opens the desktop app."
    parser.add_argument(
        "--selftest",
        nargs="?",
        const="",
        metavar="MODEL",
        help="check this installation (window offscreen, MLX, export libraries; with MODEL, a few tokens) and exit",
    )
    return parser


def open_app() -> int:
    from app.desktop_libraries import check_desktop_libraries

    check_desktop_libraries()  # before Qt is imported: its own failure is a page of text and an abort
    from app.main import run_app

    return run_app()


def run_selftest(model: str) -> int:
    from app.selftest import run_selftest

    return run_selftest(model or None)


def dispatch(args: argparse.Namespace) -> int:
    if args.selftest is not None:
        return run_selftest(args.selftest)
    if args.command is None:
        return open_app()
    return args.run(args)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = build_parser(argv).parse_args(argv)
    return cli.reporting_errors(lambda: dispatch(args))
