"""Where marslib keeps what it makes: the data cache and the training runs.

Chapters execute with their own folder as working directory, so defaults are anchored to
the repository root (the folder holding `marslib/`), not to the current directory.
Both can be moved, for example onto Google Drive on Colab, with environment variables.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]  # marslib/core/paths.py -> the repository


def cache_dir() -> Path:
    """Folder for generated data and built dataset variants: `$MARSLIB_CACHE`,
    else `<repo>/.cache`."""
    path = Path(os.environ.get("MARSLIB_CACHE", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def runs_dir() -> Path:
    """Folder for experiment records: `$MARSLIB_RUNS`, else `<repo>/runs`."""
    path = Path(os.environ.get("MARSLIB_RUNS", REPO_ROOT / "runs"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_data_file() -> Path:
    """Where a user may drop the real file: `<repo>/data/mars_for_students.npz`."""
    return REPO_ROOT / "data" / "mars_for_students.npz"
