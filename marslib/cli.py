"""`python -m marslib ...`: the command line for instructors and maintainers.

Sub-commands live one per module in `marslib.commands`; each module defines
`register(subparsers)`, which adds its parser and sets `func` to the function to run.
They are discovered at start-up, so adding a command is adding a module.

A command that fails ends in one line on stderr saying what went wrong, with which file, and
what to do, and a non-zero exit code: 2 for bad input (a wrong name, value or path), 1 for a
failure of the machine (a full disk, no permission) or an unexpected error, 130 for Ctrl-C.
The full traceback is shown only with ``python -m marslib --debug ...`` or ``MARSLIB_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import pkgutil
import sys

import marslib
from marslib import commands

INTERRUPTED = 130  # the shell's code for a command stopped by SIGINT (128 + 2)
_DEBUG_HINT = "rerun with --debug or MARSLIB_DEBUG=1 for the full traceback"
_ELSEWHERE = (
    "choose another path (MARSLIB_RUNS, MARSLIB_CACHE and --runs-dir move marslib's folders)"
)
# What to do about an operating-system error, by its errno (its strerror says what happened).
_FIXES: dict[int, str] = {
    errno.ENOSPC: "free some space or write elsewhere, then run the command again",
    errno.EDQUOT: "free some space or write elsewhere, then run the command again",
    errno.EACCES: f"make it writable, or {_ELSEWHERE}",
    errno.EPERM: f"make it writable, or {_ELSEWHERE}",
    errno.EROFS: _ELSEWHERE,
    errno.EISDIR: "a folder was given where a file is expected: give the path of a file",
    errno.ENOTDIR: "a part of the path is a file where a folder is expected: check the path",
    errno.ENOENT: "check the path",
    errno.EEXIST: "remove what is there or choose another path",
}
_BAD_PATHS = (FileNotFoundError, IsADirectoryError, NotADirectoryError)


def build_parser() -> argparse.ArgumentParser:
    """The top-level parser with every sub-command of `marslib.commands` registered."""
    parser = argparse.ArgumentParser(
        prog="python -m marslib",
        description=(
            "Mars terrain segmentation: data, experiments, evaluation, submissions, benchmarks."
        ),
    )
    parser.add_argument("--version", action="version", version=f"marslib {marslib.__version__}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="show the full traceback of an error (or set MARSLIB_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module_info in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{commands.__name__}.{module_info.name}")
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Parse `argv` (default `sys.argv[1:]`) and run the chosen sub-command;
    return its exit code (see the module docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.debug or os.environ.get("MARSLIB_DEBUG", "").strip().lower() not in ("", "0", "false"):
        return int(args.func(args) or 0)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        print(
            "interrupted: run the same command again to resume (finished runs are reused, an "
            "interrupted training continues from its last saved epoch)",
            file=sys.stderr,
        )
        return INTERRUPTED
    except Exception as error:  # every failure ends in one line; --debug shows the traceback
        message, code = describe(error)
        print(f"error: {message}", file=sys.stderr)
        return code


def describe(error: Exception) -> tuple[str, int]:
    """One line for `error` (what went wrong, where, what to do) and the exit code to return."""
    if isinstance(error, OSError):
        code = 2 if isinstance(error, _BAD_PATHS) else 1
        if error.errno is None:  # raised with a message of its own
            return _one_line(error), code
        fix = _FIXES.get(error.errno, "check the path and the disk, then run the command again")
        where = " -> ".join(str(name) for name in (error.filename, error.filename2) if name)
        reason = error.strerror or _one_line(error)
        return (f"{where}: {reason}; {fix}" if where else f"{reason}; {fix} ({_DEBUG_HINT})"), code
    if isinstance(error, UnicodeDecodeError):
        return (
            f"a file is not UTF-8 text ({error.reason} at byte {error.start + 1}); save it as "
            f"UTF-8 ({_DEBUG_HINT} to see which file)",
            2,
        )
    if isinstance(error, KeyError) and len(error.args) == 1 and isinstance(error.args[0], str):
        return _one_line(error.args[0]), 2
    if isinstance(error, (ValueError, KeyError)):
        return _one_line(error), 2
    return f"{type(error).__name__}: {_one_line(error)} (unexpected; {_DEBUG_HINT})", 1


def _one_line(text: object) -> str:
    """`text` on one line: its whitespace runs (newlines too) become single spaces."""
    return " ".join(str(text).split())
