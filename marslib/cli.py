"""`python -m marslib ...`: the command line for instructors and maintainers.

Sub-commands live one per module in `marslib.commands`; each module defines
`register(subparsers)`, which adds its parser and sets `func` to the function to run.
They are discovered at start-up, so adding a command is adding a module.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys

import marslib
from marslib import commands


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command of `marslib.commands` registered."""
    parser = argparse.ArgumentParser(
        prog="python -m marslib",
        description=(
            "Mars terrain segmentation: data, experiments, evaluation, submissions, benchmarks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"marslib {marslib.__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default `sys.argv[1:]`) and run the chosen sub-command;
    return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.func(args) or 0)
    except (ValueError, KeyError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
