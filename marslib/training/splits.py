"""Which images a run trains, validates and is scored on.

    split = training_split(experiment, data)   # the images `loop.run` trains and validates on
    splits = record_splits(experiment, data)   # the images its record's scores are on

`split_indices`: the original training images an experiment trains and validates on (the book's
one split, `marslib.data.split`, its validation part cleaned of aliens). `training_split`: the
dataset variant built from the train part (`marslib.datasets`), and the validation images.
`loss_weights`: the per-class loss weights, from the training masks where the experiment asks.
`record_splits`: the validation split and the test set's public quarter, where a run's record
(`metrics.json`), its re-scoring and ``python -m marslib evaluate`` score it.

Imports no TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marslib import data as mars_data
from marslib import datasets
from marslib.data import cleaning, stats

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.training.experiment import Experiment


@dataclass(frozen=True)
class TrainingSplit:
    """The images one experiment trains and validates on (uint8 (N, 64, 128) each)."""

    train_images: np.ndarray
    train_masks: np.ndarray
    val_images: np.ndarray | None
    val_masks: np.ndarray | None


def split_indices(experiment: Experiment, data: MarsData) -> tuple[np.ndarray, np.ndarray | None]:
    """Which original training images the experiment trains on and validates on.

    Returns:
        (train_indices, val_indices): int arrays into `data.train_images`. The validation images
        are the val part of `marslib.data.split` (the book's one split, whatever the
        experiment's seed) without the aliens (`marslib.data.cleaning`); without validation
        every image is for training and val_indices is None.
    """
    if not experiment.validation:
        return np.arange(len(data.train_images)), None
    train_indices, val_indices = mars_data.split(data, val_fraction=experiment.val_fraction)
    return train_indices, cleaning.cleaned_indices(data, val_indices)


def training_split(experiment: Experiment, data: MarsData) -> TrainingSplit:
    """The images `loop.run` trains and validates `experiment` on: the variant built from the train
    split (at most `train_limit` of them, drawn by the experiment's seed) and the cleaned images
    of the validation split (none without validation)."""
    experiment = experiment.resolved()
    train_indices, val_indices = split_indices(experiment, data)
    images, masks = datasets.build(experiment.variant, data, train_indices, seed=experiment.seed)
    if experiment.train_limit and len(images) > experiment.train_limit:
        keep = np.sort(
            np.random.default_rng(experiment.seed).choice(
                len(images), experiment.train_limit, replace=False
            )
        )
        images, masks = images[keep], masks[keep]
    if val_indices is None:
        return TrainingSplit(images, masks, None, None)
    return TrainingSplit(
        images, masks, data.train_images[val_indices], data.train_masks[val_indices]
    )


def loss_weights(experiment: Experiment, masks: np.ndarray) -> np.ndarray | None:
    """The per-class loss weights of `experiment`, float32 (5,) indexed by class (None when it
    is unweighted): as given, or computed from `masks`, its training masks (uint8 (N, 64, 128)),
    by the method it names (`marslib.data.stats.class_weights`)."""
    weights = experiment.class_weights
    if weights is None:
        return None
    if isinstance(weights, dict):
        options = {key: value for key, value in weights.items() if key != "method"}
        return stats.class_weights(masks, weights["method"], **options)
    return np.asarray(weights, dtype=np.float32)


def record_splits(
    experiment: Experiment, data: MarsData, *, whole_test: bool = False
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The images a run's record is scored on, by split, as the trainer scored them.

    Args:
        experiment: the run's experiment (its validation split: `split_indices`).
        data: the data set.
        whole_test: score every test image instead of the public quarter.

    Returns:
        ``{"val": (images, masks), "test": (images, masks)}``, each uint8 (N, 64, 128): the
        cleaned validation split (left out for a run without one), and the test set's public
        quarter (`marslib.data.public_indices`, as Kaggle's leaderboard showed during the
        challenge and the report's Table 1 quotes), or all of it with `whole_test` (left out
        where the test labels are unknown, as in the real file).
    """
    splits = {}
    _, val_indices = split_indices(experiment, data)
    if val_indices is not None:
        splits["val"] = (data.train_images[val_indices], data.train_masks[val_indices])
    if data.test_masks is not None:
        chosen = (
            np.arange(len(data.test_masks))
            if whole_test
            else mars_data.public_indices(len(data.test_masks))
        )
        splits["test"] = (data.test_images[chosen], data.test_masks[chosen])
    return splits
