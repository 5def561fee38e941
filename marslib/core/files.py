"""Files written whole or not at all, and JSON files.

Every writer writes to a temporary file beside the target and renames it over the target
(`os.replace`, atomic on one file system), so a kill, a full disk or Ctrl-C never leaves a
half-written file under the final name: the old file stays, or the new one is complete.
"""

from __future__ import annotations

import json
import os
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any

import numpy as np


@contextmanager
def atomic_path(path: Path | str) -> Iterator[Path]:
    """A temporary path to write to; renamed to `path` when the block ends without an error.

    The temporary name keeps `path`'s suffix (NumPy's savez adds ".npz" to names without it)
    and carries the process id, so two processes never share one.
    """
    path = Path(path)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield temporary
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_with(path: Path | str, write: Callable[[IO[bytes]], None]) -> Path:
    """Call `write(handle)` on a binary file that becomes `path` once `write` returns."""
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        write(handle)
    return Path(path)


def write_text(path: Path | str, text: str) -> Path:
    """Write `text` (UTF-8) to `path` atomically."""
    return write_with(path, lambda handle: handle.write(text.encode()))


def write_json(path: Path | str, content: Any) -> Path:
    """Write `content` as indented JSON to `path` atomically."""
    return write_text(path, json.dumps(content, indent=2) + "\n")


def read_json(path: Path | str) -> Any:
    """The JSON content of `path`."""
    return json.loads(Path(path).read_text())


def save_arrays(path: Path | str, **arrays: np.ndarray) -> Path:
    """Save named arrays to the .npz file `path` atomically (`np.savez`, no pickled objects)."""
    return write_with(path, lambda handle: np.savez(handle, **arrays))


def deflate_zip(source: Path | str, target: Path | str) -> Path:
    """Copy the zip archive `source` (a Keras ``.keras`` file stores its entries uncompressed) to
    `target` atomically, every entry deflated at level 9: the same names, bytes and order, so
    what reads it reads the same files (a U-Net's model file: 0.94 MB -> 0.59 MB).

    Raises:
        ValueError: `source` is not a zip archive.
    """
    if not zipfile.is_zipfile(source):
        raise ValueError(f"{source} is not a zip archive (a .keras model file is one)")

    def write(handle: IO[bytes]) -> None:
        with (
            zipfile.ZipFile(source) as original,
            zipfile.ZipFile(handle, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as copy,
        ):
            for entry in original.infolist():
                packed = zipfile.ZipInfo(entry.filename, date_time=entry.date_time)
                packed.compress_type = zipfile.ZIP_DEFLATED
                copy.writestr(packed, original.read(entry.filename), compresslevel=9)

    return write_with(target, write)
