"""Sub-commands of `python -m marslib`, one module each (see `marslib.cli`).

The options several commands share are added by `add_options`, so they read the same everywhere.
"""

from __future__ import annotations

import argparse

HELP: dict[str, str] = {
    "--profile": "quick, full, reference or auto (default: $MARSLIB_PROFILE or auto)",
    "--runs-dir": "where records live (default: $MARSLIB_RUNS, else <repo>/runs)",
    "--data": (
        "a data file in the real format (default: $MARSLIB_DATA, the repo's data/, or synthetic)"
    ),
}


def add_options(parser: argparse.ArgumentParser, *names: str, profile: str | None = None) -> None:
    """Add the shared options `names` ("--profile", "--runs-dir", "--data") to `parser`.

    Args:
        parser: the command's parser.
        names: which options, in the order they are listed in the help.
        profile: the default of ``--profile`` (None: $MARSLIB_PROFILE or auto).
    """
    for name in names:
        if name not in HELP:
            raise ValueError(f"unknown shared option {name!r}; known: {list(HELP)}")
        text = HELP[name] if name != "--profile" or profile is None else f"default: {profile}"
        parser.add_argument(name, default=profile if name == "--profile" else None, help=text)
