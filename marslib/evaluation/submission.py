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
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm import tqdm

from marslib import metrics, models
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.data.splits import public_indices

if TYPE_CHECKING:
    from marslib.data import MarsData

PIXELS = IMAGE_SHAPE[0] * IMAGE_SHAPE[1]
COLUMNS: tuple[str, ...] = ("id", *(str(i) for i in range(PIXELS)))
ROWS_PER_WRITE = 1024


def write_submission(labels: np.ndarray, path: Path | str, *, progress: bool = False) -> Path:
    """Write predicted labels as the competition's CSV.

    Each label is one digit, so a row is written straight from the label bytes (digits and
    commas interleaved with NumPy), about 40 times faster than `pandas.DataFrame.to_csv`.

    Args:
        labels: integer (N, 64, 128) labels 0..4, in the test set's order.
        path: the CSV to write (its folder is created).
        progress: show a progress bar.

    Returns:
        The path written.
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
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    flat = labels.reshape(len(labels), PIXELS).astype(np.uint8)
    with open(path, "wb") as handle:
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
    return path


def predict_submission(
    model: Any,
    data: MarsData,
    path: Path | str,
    *,
    batch_size: int = 64,
    flip: bool = False,
    progress: bool = True,
) -> Path:
    """Predict every test image of `data` with `model` and write the submission CSV to `path`."""
    labels = models.predict(
        model, data.test_images, batch_size=batch_size, flip=flip, progress=progress
    )
    return write_submission(labels, path, progress=progress)


def read_submission(path: Path | str, rows: int | None = None) -> np.ndarray:
    """Read and check a submission CSV.

    Args:
        path: the CSV.
        rows: the number of test images it must hold (None: any).

    Returns:
        uint8 (N, 64, 128) labels, row i being test image i.

    Raises:
        ValueError: for a header other than ``id,0,...,8191``, a row of the wrong length or with
            something other than whole numbers, ids other than 0..N-1 in order, the wrong number
            of rows, or labels outside 0..4.
    """
    path = Path(path)
    with open(path) as handle:
        header = handle.readline().rstrip("\r\n").split(",")
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
        chunks = []
        while lines := list(itertools.islice(handle, ROWS_PER_WRITE)):
            chunks.append(_parse_rows(path, lines, first_id=sum(len(c) for c in chunks)))
    labels = np.concatenate(chunks) if chunks else np.empty((0, *IMAGE_SHAPE), dtype=np.uint8)
    if rows is not None and len(labels) != rows:
        raise ValueError(f"{path}: expected {rows} rows (one per test image), got {len(labels)}")
    return labels


def _parse_rows(path: Path, lines: list[str], first_id: int) -> np.ndarray:
    """Check rows of a submission (their ids must count on from `first_id`);
    uint8 (n, 64, 128) labels."""
    try:
        table = np.loadtxt(lines, delimiter=",", dtype=np.int64, ndmin=2)
    except ValueError as error:
        raise ValueError(
            f"{path}: every row must hold {len(COLUMNS)} whole numbers separated by commas: {error}"
        ) from None
    if table.shape[1] != len(COLUMNS):
        raise ValueError(f"{path}: rows must hold {len(COLUMNS)} values, got {table.shape[1]}")
    expected = np.arange(first_id, first_id + len(table))
    if not np.array_equal(table[:, 0], expected):
        row = int(np.flatnonzero(table[:, 0] != expected)[0])
        raise ValueError(
            f"{path}: ids must be 0, 1, 2, ... in the test set's order; "
            f"row {first_id + row} has id {table[row, 0]}"
        )
    labels = table[:, 1:]
    if labels.min() < 0 or labels.max() >= NUM_CLASSES:
        raise ValueError(
            f"{path}: labels must lie in 0..{NUM_CLASSES - 1}, got values in "
            f"{labels.min()}..{labels.max()}"
        )
    return labels.astype(np.uint8).reshape(len(table), *IMAGE_SHAPE)


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
    public = np.zeros(len(predicted), dtype=bool)
    public[public_indices(len(predicted))] = True
    found = metrics.scores(data.test_masks, predicted)
    found["public_miou"] = metrics.scores(data.test_masks[public], predicted[public])["miou"]
    found["private_miou"] = metrics.scores(data.test_masks[~public], predicted[~public])["miou"]
    return found
