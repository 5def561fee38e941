"""`python -m marslib bench [AREA ...]`: print performance figures measured on this machine.

The areas and their benchmarks live in `marslib.bench`.
"""

from __future__ import annotations

import argparse
import importlib

from marslib.bench import AREAS


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the `bench` sub-command."""
    parser = subparsers.add_parser("bench", help="measure throughput on this machine")
    parser.add_argument(
        "areas",
        nargs="*",
        default=list(AREAS),
        help=f"what to measure: {', '.join(AREAS)} (default: all)",
    )
    parser.add_argument(
        "--scale",
        choices=["small", "full"],
        default="full",
        help="small: a fast look; full: the real sizes",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen benchmark areas and print one line per measurement."""
    unknown = [area for area in args.areas if area not in AREAS]
    if unknown:
        raise ValueError(f"unknown benchmark area(s) {unknown}; known areas: {list(AREAS)}")
    for area in args.areas:
        module = importlib.import_module(AREAS[area])
        print(f"== {area} ({args.scale})", flush=True)
        for m in module.benchmark(args.scale):
            print(f"{m.what:<60} {m.value:>12.1f} {m.unit}", flush=True)
    return 0
