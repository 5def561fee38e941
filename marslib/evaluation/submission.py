"""The Kaggle submission CSV, and a local leaderboard that scores one
against the synthetic test labels.

The competition wanted one row per test image, in the test set's order: an ``id`` column
(0..N-1), then the image's 64 x 128 = 8192 predicted labels flattened row by row, in columns
named ``"0"`` .. ``"8191"``; for the whole test set 10022 rows x 8193 columns::

    id,0,1,...,8191
    0,1,1,3,...,2
    ...

    labels = models.predict(model, data.test_images)
    path = submission.write_submission(labels, "submission.csv")
    submission.score_submission(path, data)        # {"miou": ..., "public_miou": ..., ...}

The leaderboard mirrors Kaggle's: a public score on a fixed 25% of the test images and a
private score on the rest, both with the competition metric (`marslib.metrics`).
"""

from __future__ import annotations

import itertools
import re
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
import psutil
from tqdm import tqdm

from marslib import models
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.core.files import write_with
from marslib.data.splits import public_indices

if TYPE_CHECKING:
    from marslib.data import MarsData

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
COLUMNS: tuple[str, ...] = ("id", *(str(i) for i in range(PIXELS)))
ROWS_PER_WRITE = 1024
# A whole number as `np.loadtxt` reads one, and a row of len(COLUMNS) of them.
_WHOLE = re.compile(r"\s*[+-]?[0-9]+\s*")
_ROW = re.compile(rf"(?:{_WHOLE.pattern},){{{len(COLUMNS) - 1}}}{_WHOLE.pattern}")
_HUGE = re.compile(r"[0-9]{19,}")  # more digits than an int64 holds


def check_destination(path: Path | str) -> Path:
    """Check, before any work is spent on it, that a submission CSV can be written at `path`.

    The folders above `path` may be missing (`write_submission` creates them); the nearest one
    that exists must be a folder this process can create files in.

    Returns:
        `path` as a `Path`.

    Raises:
        ValueError: `path` is a folder, lies below a file, or its folder is not writable
            (read-only, no permission); the message says which and what to do.
    """
    path = Path(path)
    if path.is_dir():
        raise ValueError(
            f"{path} is a folder; give the path of the CSV file to write, "
            f"e.g. {path / 'submission.csv'}"
        )
    existing = next(folder for folder in path.parents if folder.exists())
    if not existing.is_dir():
        raise ValueError(
            f"cannot write {path}: {existing} is a file, not a folder; "
            "choose a path inside a folder"
        )
    try:
        with tempfile.TemporaryFile(dir=existing):
            pass
    except OSError as error:
        raise ValueError(
            f"cannot write {path}: no file can be created in {existing} ({error.strerror}); "
            "make that folder writable or choose another one"
        ) from None
    return path


def write_submission(labels: np.ndarray, path: Path | str, *, progress: bool = False) -> Path:
    """Write predicted labels as the competition's CSV, whole or not at all.

    Each label is one digit, so a row is written straight from the label bytes (digits and
    commas interleaved with NumPy), about 40 times faster than `pandas.DataFrame.to_csv`.
    The rows go to a temporary file beside `path`, renamed to `path` once all are written: a
    full disk, Ctrl-C or a kill leaves a file already at `path` as it was. A temporary file left
    by a writer killed with SIGKILL (which cannot clean up) is removed by the next write.

    Args:
        labels: integer (N, 64, 128) labels 0..4, in the test set's order.
        path: the CSV to write (its missing folders are created).
        progress: show a progress bar.

    Returns:
        The path written.

    Raises:
        ValueError: for labels of another shape, dtype or range, or a path that cannot be
            written (see `check_destination`).
        OSError: when writing fails (e.g. ENOSPC, a full disk); its ``filename`` is `path`.
    """
    labels = np.asarray(labels)
    if (
        labels.ndim != 3
        or labels.shape[1:] != IMAGE_SHAPE
        or not np.issubdtype(labels.dtype, np.integer)
    ):
        raise ValueError(
            f"labels must be integers (N, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}), "
            f"got {labels.dtype} {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(
            f"labels must lie in 0..{NUM_CLASSES - 1}, got {labels.min()}..{labels.max()}"
        )
    path = check_destination(path)
    flat = labels.reshape(len(labels), PIXELS).astype(np.uint8)

    def write(handle: IO[bytes]) -> None:
        handle.write((",".join(COLUMNS) + "\n").encode())
        for start in tqdm(
            range(0, len(flat), ROWS_PER_WRITE), desc="write", unit="chunk", disable=not progress
        ):
            chunk = flat[start : start + ROWS_PER_WRITE]
            text = np.full((len(chunk), 2 * PIXELS), ord(","), dtype=np.uint8)
            text[:, 0::2] = chunk + ord("0")
            text[:, -1] = ord("\n")
            handle.write(
                b"".join(f"{start + i},".encode() + row.tobytes() for i, row in enumerate(text))
            )

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_temporaries(path)
        return write_with(path, write)
    except OSError as error:
        if error.filename is None:
            error.filename = str(path)
        raise


def _remove_stale_temporaries(path: Path) -> None:
    """Delete the temporary files of `path` whose writer is gone.

    `marslib.core.files.atomic_path` names them ``.<stem>.<pid>.tmp<suffix>`` and deletes them
    itself on an error or Ctrl-C; only a process killed outright (SIGKILL, a crash) leaves one.
    """
    name = re.compile(re.escape(f".{path.stem}.") + r"([0-9]+)" + re.escape(f".tmp{path.suffix}"))
    for candidate in path.parent.iterdir():
        found = name.fullmatch(candidate.name)
        if found and not _process_alive(int(found.group(1))):
            candidate.unlink(missing_ok=True)


def _process_alive(pid: int) -> bool:
    """Whether process `pid` still runs, asked without signalling it, on every system.

    `psutil.Process` reads the process table (/proc on Linux, the kernel on macOS, OpenProcess
    on Windows). ``os.kill(pid, 0)`` is no probe on Windows: there it sends Ctrl-C to, or
    terminates, the process. A zombie (killed, not yet reaped) writes nothing more: not alive.
    """
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:  # gone (a zombie may also be reported so)
        return False
    except psutil.AccessDenied:  # alive, but another user's
        return True


def predict_submission(
    model: Any,
    data: MarsData,
    path: Path | str,
    *,
    batch_size: int = 64,
    flip: bool = False,
    progress: bool = True,
) -> Path:
    """Predict every test image of `data` with `model` and write the submission CSV to `path`.

    `path` is checked (`check_destination`) before the prediction, so a path that cannot be
    written fails at once instead of after minutes of predicting.
    """
    check_destination(path)
    labels = models.predict(
        model, data.test_images, batch_size=batch_size, flip=flip, progress=progress
    )
    return write_submission(labels, path, progress=progress)


def read_submission(path: Path | str, rows: int | None = None) -> np.ndarray:
    """Read and check a submission CSV.

    Errors name the place in the file: the row (counted from 0, so row i should hold id i), its
    line in the file (the header is line 1; blank lines are skipped) and the column.

    Args:
        path: the CSV.
        rows: the number of test images it must hold (None: any).

    Returns:
        uint8 (N, 64, 128) labels, row i being test image i.

    Raises:
        ValueError: for a file that is not UTF-8 text, a header other than ``id,0,...,8191``,
            a row of the wrong length or with something other than whole numbers, ids other
            than 0..N-1 in order, the wrong number of rows, or labels outside 0..4.
    """
    path = Path(path)
    with open(path, "rb") as handle:
        header = _decode(path, handle.readline(), line=1).rstrip("\r\n").split(",")
        if tuple(header) != COLUMNS:
            differences = [
                f"column {i}: {got!r} (expected {want!r})"
                for i, (got, want) in enumerate(zip(header, COLUMNS))
                if got != want
            ]
            raise ValueError(
                f"{path}: the header must be 'id' then '0'..'{PIXELS - 1}' "
                f"({len(COLUMNS)} columns); got {len(header)} columns"
                + (f", first difference at {differences[0]}" if differences else "")
            )
        chunks: list[np.ndarray] = []
        line = 2
        while block := list(itertools.islice(handle, ROWS_PER_WRITE)):
            numbered = [(line + i, _decode(path, raw, line + i)) for i, raw in enumerate(block)]
            line += len(block)
            kept = [(number, text) for number, text in numbered if text.strip()]
            if kept:
                chunks.append(_parse_rows(path, kept, first_row=sum(len(c) for c in chunks)))
    labels = np.concatenate(chunks) if chunks else np.empty((0, *IMAGE_SHAPE), dtype=np.uint8)
    if rows is not None and len(labels) != rows:
        raise ValueError(f"{path}: expected {rows} rows (one per test image), got {len(labels)}")
    return labels


def _decode(path: Path, raw: bytes, line: int) -> str:
    """A line of the file as text; a ValueError names the line for bytes that are not UTF-8."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ValueError(
            f"{path}, line {line}: not UTF-8 text (byte {error.start + 1} of the line is "
            f"{raw[error.start]:#04x}); a submission is a text CSV of digits and commas"
        ) from None


def _parse_rows(path: Path, lines: list[tuple[int, str]], first_row: int) -> np.ndarray:
    """Check rows of a submission and return their uint8 (n, 64, 128) labels.

    Args:
        path: the CSV, for messages.
        lines: (line number in the file, text) of each row, none blank.
        first_row: the row number (and expected id) of the first of them.
    """

    def where(index: int, column: int | None = None) -> str:
        place = f"{path}, row {first_row + index} (line {lines[index][0]})"
        return place if column is None else f"{place}, column {COLUMNS[column]!r}"

    try:
        table = np.loadtxt([text for _, text in lines], delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise _malformed(lines, where, str(error)) from None
    if table.shape[1] != len(COLUMNS):
        raise _malformed(lines, where, f"{table.shape[1]} values per row")
    expected = np.arange(first_row, first_row + len(table))
    if not np.array_equal(table[:, 0], expected):
        row = int(np.flatnonzero(table[:, 0] != expected)[0])
        raise ValueError(
            f"{where(row, 0)}: id {table[row, 0]}, expected {first_row + row}; ids must be "
            "0, 1, 2, ... in the test set's order"
        )
    labels = table[:, 1:]
    outside = (labels < 0) | (labels >= NUM_CLASSES)
    if outside.any():
        row, column = divmod(int(np.flatnonzero(outside)[0]), PIXELS)
        raise ValueError(
            f"{where(row, column + 1)}: label {labels[row, column]}; "
            f"labels must lie in 0..{NUM_CLASSES - 1}"
        )
    return labels.astype(np.uint8).reshape(len(table), *IMAGE_SHAPE)


def _malformed(lines: list[tuple[int, str]], where: Callable[..., str], problem: str) -> ValueError:
    """The error for the first row of `lines` that is not len(COLUMNS) whole numbers
    (`problem`: what `np.loadtxt` found, for a case not foreseen here)."""
    for index, (_, text) in enumerate(lines):
        fields = text.rstrip("\r\n").split(",")
        if len(fields) != len(COLUMNS):
            return ValueError(
                f"{where(index)}: {len(fields)} values; every row must hold {len(COLUMNS)} "
                f"whole numbers separated by commas (the id, then {PIXELS} labels)"
            )
        if not _ROW.fullmatch(text.rstrip("\r\n")):
            column = next(c for c, field in enumerate(fields) if not _WHOLE.fullmatch(field))
            return ValueError(
                f"{where(index, column)}: {fields[column]!r} is not a whole number; every row "
                f"must hold {len(COLUMNS)} whole numbers separated by commas"
            )
        if huge := _HUGE.search(text):
            column = text.count(",", 0, huge.start())
            return ValueError(
                f"{where(index, column)}: {fields[column]!r} is too large a number; "
                f"ids are 0..N-1 and labels 0..{NUM_CLASSES - 1}"
            )
    return ValueError(f"{where(0)} and the rows after it: {problem}")


def score_submission(csv_path: Path | str, data: MarsData) -> dict[str, Any]:
    """Score a submission CSV against the test labels of `data` (the local leaderboard).

    Returns:
        ``{"miou", "public_miou", "private_miou", "per_class_iou": {class: IoU}, "images"}``:
        the competition mIoU on all test images, on the public 25% and on the other 75%.

    Raises:
        ValueError: when `data` has no test labels (the real file: score it on Kaggle), or the
            CSV is malformed (see `read_submission`).
    """
    if data.test_masks is None:
        raise ValueError(
            f"the data set {data.source!r} has no test labels, "
            "so a submission cannot be scored locally; "
            "use the synthetic set, or submit the CSV to the competition"
        )
    predicted = read_submission(csv_path, rows=len(data.test_masks))
    from marslib import metrics  # only now: writing and reading a CSV need no Keras

    public = np.zeros(len(predicted), dtype=bool)
    public[public_indices(len(predicted))] = True
    found = metrics.scores(data.test_masks, predicted)
    found["public_miou"] = metrics.scores(data.test_masks[public], predicted[public])["miou"]
    found["private_miou"] = metrics.scores(data.test_masks[~public], predicted[~public])["miou"]
    return found
