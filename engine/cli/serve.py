"""`cabin serve`: the model over OpenAI- and Ollama-compatible HTTP APIs, until Ctrl-C (or SIGTERM)."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys

from engine.cli.common import add_model_arguments, loaded_engine, positive_int, stats_line
from engine.generation import Engine
from engine.server import DEFAULT_PORT, Served, ServerConfig, start_server
from engine.server.guard import is_loopback


def port_number(text: str) -> int:
    value = int(text)
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text} is not a port number (0-65535; 0 picks a free one)")
    return value


def keep_alive(text: str) -> float | None:
    """Seconds ("5m", "30s", "1h", a number); negative: forever."""
    from engine.server.errors import ApiError
    from engine.server.keep_alive import keep_alive_seconds

    try:
        return keep_alive_seconds(text)
    except ApiError:
        raise argparse.ArgumentTypeError(f"{text} is not a duration like 5m, 30s or 1h (-1: forever)") from None


def register(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: this machine only)")
    parser.add_argument("--port", type=port_number, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}; 0 picks a free port")
    parser.add_argument("--api-key", default=os.environ.get("CABIN_API_KEY"),
                        help="require 'Authorization: Bearer KEY' on every request (default: $CABIN_API_KEY)")
    parser.add_argument("--max-tokens", type=positive_int, default=4096, help="longest answer when a request sets none")
    parser.add_argument("--max-queue", type=positive_int, default=64, help="requests queued at once before 503s")
    parser.add_argument("--max-body-mb", type=positive_int, default=8, help="largest request body, in MiB")
    parser.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                        help="a web page origin allowed to call the API from a browser (repeatable; * for any)")
    parser.add_argument("--keep-alive", type=keep_alive, default=300, metavar="DURATION",
                        help="how long an idle model stays loaded before it is unloaded, unless a request says "
                             "(default 5m; -1: forever; requests may name any model on this machine)")
    parser.add_argument("--route", choices=("local", "auto"), default="local",
                        help="auto: hard chat requests go to the cloud model set up in the app's Preferences ▸ Cloud "
                             "(key in the system keychain); offline settings and HF_HUB_OFFLINE still keep every "
                             "answer local (default: local, nothing leaves this machine)")
    parser.set_defaults(run=run)


def config_from(args: argparse.Namespace) -> ServerConfig:
    return ServerConfig(
        host=args.host,
        port=args.port,
        api_key=args.api_key or None,
        max_body_bytes=args.max_body_mb * 2**20,
        max_queue=args.max_queue,
        max_tokens=args.max_tokens,
        allowed_origins=tuple(args.allow_origin),
        keep_alive=args.keep_alive,
    )


def served_line(served: Served) -> str:
    finished = served.finished
    line = f"{served.endpoint} · {stats_line(finished.stats, finished.finish_reason)}"
    return f"{line} · {finished.error}" if finished.error else line


async def serve_until_stopped(engine: Engine, config: ServerConfig) -> None:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    handle = await start_server(engine, config)
    handle.on_served(lambda served: print(served_line(served), file=sys.stderr, flush=True))
    print(f"Serving {engine.model_info.name} at {handle.url} — OpenAI and Anthropic APIs at {handle.url}/v1, "
          f"Ollama API at {handle.url}/api. Ctrl-C stops.", flush=True)
    try:
        await stopping.wait()
    finally:
        await handle.close()


def run(args: argparse.Namespace) -> int:
    config = config_from(args)
    if not is_loopback(config.host) and not config.api_key:
        print(f"cabin: warning: listening on {config.host} without --api-key: anyone who can reach this machine "
              "can use the model", file=sys.stderr)
    with loaded_engine(args) as engine:
        asyncio.run(serve_until_stopped(routed(engine) if args.route == "auto" else engine, config))
    return 0


def routed(engine: Engine) -> Engine:
    """The engine with its chat answers routed by the settings in Cabin's data folder (engine/cloud/serving.py),
    read again for each request, so Preferences changed in the app apply without a restart."""
    from engine.cloud.router import Router
    from engine.cloud.serving import RoutingEngine
    from engine.paths import data_dir
    from engine.settings.file import Settings

    path = data_dir() / "settings.json"
    for warning in Settings(path).warnings:
        print(f"cabin: warning: {warning}", file=sys.stderr)
    return RoutingEngine(engine, Router(engine, lambda: Settings(path).values))  # type: ignore[return-value]
