"""`python -m marslib info`: version, profile and where data and runs are kept."""

from __future__ import annotations

import argparse

import marslib
from marslib.commands import add_options
from marslib.core import paths


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `info` sub-command."""
    parser = subparsers.add_parser("info", help="show version, profile and folders")
    add_options(parser, "--profile")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print what this installation would use."""
    chosen = marslib.profile(args.profile)
    print(f"marslib {marslib.__version__}")
    print(f"profile     {chosen.name} ({chosen})")
    print(f"cache dir   {paths.cache_dir()}")
    print(f"runs dir    {paths.runs_dir()}")
    real = paths.default_data_file()
    print(
        f"real data   {real} "
        f"({'present' if real.exists() else 'absent: the synthetic set is used'})"
    )
    return 0
