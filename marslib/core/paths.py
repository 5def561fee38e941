"""Where marslib keeps what it makes: the data cache and the training runs.

Chapters execute with their own folder as working directory, so defaults are anchored to
the repository root (the folder holding `marslib/`), not to the current directory.
Both can be moved, for example onto Google Drive on Colab, with environment variables.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # marslib/core/paths.py -> the repository


def cache_dir() -> Path:
    """Folder for generated data and built dataset variants: `$MARSLIB_CACHE`,
    else `<repo>/.cache` (created if missing).

    Raises:
        ValueError: the path is a file, lies below a file, or cannot be created.
    """
    return _folder("MARSLIB_CACHE", REPO_ROOT / ".cache", "the data cache")


def runs_dir() -> Path:
    """Folder for experiment records: `$MARSLIB_RUNS`, else `<repo>/runs` (created if missing).

    Raises:
        ValueError: the path is a file, lies below a file, or cannot be created.
    """
    return _folder("MARSLIB_RUNS", REPO_ROOT / "runs", "the training runs")


def _folder(variable: str, default: Path, what: str) -> Path:
    """The folder `$variable` (else `default`), created if missing; a ValueError names the
    variable, the path and the fix when it cannot be a folder."""
    given = os.environ.get(variable)
    path = Path(given) if given else default
    source = f"{variable}={given}" if given else f"the default folder {path}"
    fix = (
        f"point {variable} at a writable folder (or unset it to use {default})"
        if given
        else f"remove or rename what is there, or set {variable} to another folder"
    )
    if path.exists() and not path.is_dir():
        raise ValueError(f"{source}, the folder for {what}, is a file, not a folder; {fix}")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        reason = "a part of it is a file" if error.errno == errno.ENOTDIR else error.strerror
        raise ValueError(
            f"{source}: cannot create the folder for {what} ({reason}); {fix}"
        ) from None
    return path


def default_data_file() -> Path:
    """Where a user may drop the real file: `<repo>/data/mars_for_students.npz`."""
    return REPO_ROOT / "data" / "mars_for_students.npz"
