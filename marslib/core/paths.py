"""Where marslib keeps what it makes: the data cache and the training runs, and where it looks
for reference records besides the repository's `references/` (`$MARSLIB_REFERENCES`).

Chapters execute with their own folder as working directory, so defaults are anchored to
the repository root (the folder holding `marslib/`), not to the current directory.
Both can be moved, for example onto Google Drive on Colab, with environment variables.
`shown` writes a path for a reader: never the absolute path of the machine that built the book.
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


def extra_references_dir() -> Path | None:
    """The folder of reference records named by `$MARSLIB_REFERENCES` (for example one on Google
    Drive, where an archive of references was installed), searched after the repository's
    `references/`; None when the variable is unset or empty. Not created here.

    Raises:
        ValueError: the variable names a file, or a folder that does not exist (the message
            names it and the fix).
    """
    given = os.environ.get("MARSLIB_REFERENCES")
    if not given:
        return None
    path = Path(given).expanduser()
    if not path.is_dir():
        what = "is a file, not a folder" if path.exists() else "does not exist"
        raise ValueError(
            f"MARSLIB_REFERENCES={given} {what}; point it at a folder of reference records (mount "
            "the drive, or install an archive there: python -m marslib references install "
            "ARCHIVE --into FOLDER), or unset it"
        )
    return path


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


def shown(path: Path | str) -> str:
    """`path` as a chapter prints it, without the folders of the machine that runs it.

    Inside the repository: relative to it ("runs/submissions/final.csv"; "." for the repository
    itself). Inside the folder named by `$MARSLIB_RUNS`, `$MARSLIB_CACHE` or
    `$MARSLIB_REFERENCES`: relative to that variable ("$MARSLIB_RUNS/submissions/final.csv").
    Under the home folder: "~/...". Anywhere else: ".../" and the last part of the path. A
    relative path is returned as it is.
    """
    path = Path(path)
    if not path.is_absolute():
        return path.as_posix()
    path = path.resolve()
    anchors = [(REPO_ROOT, None)]
    anchors += [
        (Path(os.environ[variable]).resolve(), f"${variable}")
        for variable in ("MARSLIB_RUNS", "MARSLIB_CACHE", "MARSLIB_REFERENCES")
        if os.environ.get(variable)
    ]
    anchors.append((Path.home().resolve(), "~"))
    for folder, name in anchors:
        if path.is_relative_to(folder):
            inside = path.relative_to(folder).as_posix()
            if name is None:
                return inside
            return name if inside == "." else f"{name}/{inside}"
    return f".../{path.name}"


def default_data_file() -> Path:
    """Where a user may drop the real file: `<repo>/data/mars_for_students.npz`."""
    return REPO_ROOT / "data" / "mars_for_students.npz"
