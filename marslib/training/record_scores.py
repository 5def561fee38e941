"""The scores a run record holds: its kept model scored on the record's splits when training
ends (`score_splits`), again later (`rescore`), and checked against the record (`verify`).

    found, confusions = rescore(record, data)   # as `loop.run` scored it
    verify(record, data)                        # raises ValueError where the record drifted

The splits are `marslib.training.splits.record_splits`: the experiment's validation split and the
test set's public quarter where its labels are known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from marslib import metrics, models
from marslib.training import tasks
from marslib.training.splits import record_splits

if TYPE_CHECKING:
    import keras

    from marslib.data import MarsData
    from marslib.training.experiment import Experiment
    from marslib.training.run_records import RunRecord


def _split_metrics(
    model: keras.Model,
    task: tasks.Task,
    images: np.ndarray,
    masks: np.ndarray,
    batch_size: int,
    progress: bool,
) -> tuple[dict[str, Any], np.ndarray]:
    """A split's scores and its per-image confusion matrices (uint16 (N, 5, 5))."""
    predicted = models.predict(model, images, batch_size=batch_size, progress=progress)
    return task.scores(masks, predicted), metrics.per_image_confusion(masks, predicted)


def score_splits(
    model: keras.Model, experiment: Experiment, data: MarsData, *, progress: bool
) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Score `model`, trained for `experiment`, on the images its record is scored on.

    The images are `marslib.training.splits.record_splits`: the experiment's validation split
    and the test set's public quarter, as Kaggle's leaderboard showed during the challenge (and
    the report's Table 1 quotes); the private rest is scored once, with the final submission.

    Args:
        progress: show a progress bar while the test images are predicted.

    Returns:
        ``({"val": scores | None, "test": scores | None}, {split: uint16 (N, 5, 5)})``: the
        scores (None for a split not scored), and the per-image confusion matrices of each split
        scored.
    """
    batch_size = max(experiment.batch_size, 64)
    task = tasks.get(experiment.task)
    found: dict[str, Any] = {"val": None, "test": None}
    confusions = {}
    for name, (images, masks) in record_splits(experiment, data).items():
        found[name], confusions[name] = _split_metrics(
            model, task, images, masks, batch_size, progress=progress and name == "test"
        )
    return found, confusions


def rescore(record: RunRecord, data: MarsData) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Score a record's saved model again, as `loop.run` scored it (`score_splits`).

    The images are those `loop.run` scored (`marslib.training.splits.record_splits`): the
    experiment's validation split, and the test set's public quarter where its labels are known
    (else None).

    Returns:
        ``({"val": scores | None, "test": scores | None}, {split: uint16 (N, 5, 5)})``: the
        scores, and the per-image confusion matrices of each split scored.
    """
    return score_splits(record.load_model(), record.experiment, data, progress=False)


def verify(record: RunRecord, data: MarsData, *, tolerance: float = 1e-4) -> None:
    """Check that a record's model still gives the record's scores on this data, and the same
    per-image confusion matrices.

    Another CPU or thread count may round a few probabilities otherwise and flip the odd pixel
    whose two best classes tie, so a share `tolerance` of each split's pixels may move, and
    each score may differ by `tolerance`.

    Raises:
        ValueError: naming each score that differs by more than `tolerance`, or each split where
            more pixels are predicted otherwise (a record whose weights or data drifted from
            what it says), and the fix.
    """
    found, confusions = rescore(record, data)
    drifted = []
    for split in ("val", "test"):
        recorded, now = record.metrics[split], found[split]
        if (recorded is None) != (now is None):
            drifted.append(f"{split}: recorded {recorded}, now {now}")
            continue
        for key, value in _flat_scores(recorded or {}).items():
            again = _flat_scores(now)[key]
            if not abs(again - value) <= tolerance:
                drifted.append(f"{split} {key}: recorded {value:.6f}, now {again:.6f}")
    stored = record.per_image()
    for split in sorted(set(stored) | set(confusions)):
        if split not in stored or split not in confusions:
            drifted.append(f"{split}: per-image counts recorded for {sorted(stored)}")
            continue
        if stored[split].shape != confusions[split].shape:
            drifted.append(
                f"{split}: {len(stored[split])} images recorded, {len(confusions[split])} now"
            )
            continue
        # A pixel predicted otherwise moves one count out of a cell and into another.
        moved = int(np.abs(stored[split].astype(np.int64) - confusions[split]).sum()) // 2
        if moved > tolerance * int(stored[split].sum()):
            drifted.append(f"{split}: {moved} pixels predicted otherwise than recorded")
    if drifted:
        raise ValueError(
            f"the record {record.directory} does not reproduce on {data.source} "
            f"({'; '.join(drifted)}): retrain it with "
            f"python -m marslib experiments run {record.experiment.name} "
            f"--profile {record.experiment.profile}"
        )


def _flat_scores(scores: dict[str, Any]) -> dict[str, float]:
    """A split's scores as one flat {name: number}, per-class IoU included, images left out."""
    flat = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            flat |= {f"{key} {name}": float(inner) for name, inner in value.items()}
        elif key != "images":
            flat[key] = float(value)
    return flat
