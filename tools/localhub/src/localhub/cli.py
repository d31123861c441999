"""Command line: `localhub generate --root DIR` and `localhub serve --root DIR [...]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

import uvicorn

from localhub.faults import Faults
from localhub.samples import generate_samples
from localhub.server import create_app

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 47651


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the `localhub` command."""
    parser = argparse.ArgumentParser(prog="localhub", description="A local Hub for tests and offline demos.")
    commands = parser.add_subparsers(dest="command", required=True)
    generate = commands.add_parser("generate", help="write the sample repos and localhub.json under --root")
    generate.add_argument("--root", type=Path, required=True)
    serve = commands.add_parser("serve", help="serve the repos under --root")
    serve.add_argument("--root", type=Path, required=True)
    serve.add_argument("--host", default=DEFAULT_HOST)
    serve.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve.add_argument("--generate", action="store_true", help="generate the samples before serving")
    serve.add_argument("--latency", type=float, default=0.0, help="fault: seconds added to every request")
    serve.add_argument("--error-rate", type=float, default=0.0, help="fault: share of requests that fail")
    serve.add_argument("--error-status", type=int, default=503, help="fault: status of failed requests")
    serve.add_argument("--log-level", default="INFO")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=getattr(logging, str(args.log_level).upper(), logging.INFO) if args.command == "serve" else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    root: Path = args.root.resolve()
    if args.command == "generate" or args.generate:
        samples = generate_samples(root)
        logging.getLogger("localhub").info("generated %d sample repos under %s", len(samples), root)
    if args.command == "serve":
        try:
            faults = Faults(latency=args.latency, error_rate=args.error_rate, error_status=args.error_status)
        except ValueError as err:
            print(f"localhub: {err}", file=sys.stderr)
            return 2
        app = create_app(root, faults)
        logging.getLogger("localhub").info("serving %s at http://%s:%d", root, args.host, args.port)
        uvicorn.run(app, host=args.host, port=args.port, access_log=False, log_level="warning", lifespan="off")
    return 0
