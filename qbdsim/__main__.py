"""``python -m qbdsim [--host H] [--port N] [--auto-connect] [--seed-demo] [--seed S]``."""

from __future__ import annotations

import argparse

from qbdsim._server import serve


def main(argv: list[str] | None = None) -> None:
    """Parse the command line and run the simulator in the foreground."""
    parser = argparse.ArgumentParser(prog="python -m qbdsim", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--auto-connect", action="store_true", help="new end-users start online")
    parser.add_argument("--seed-demo", action="store_true", help="fill new company files")
    parser.add_argument("--seed", type=int, default=None, help="seed for ids and faults")
    args = parser.parse_args(argv)
    serve(args.host, args.port, args.auto_connect, args.seed_demo, args.seed)


if __name__ == "__main__":
    main()
