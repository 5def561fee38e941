"""The images a run is scored on, so that scores compare.

    splits = record_splits(record.experiment, data)   # what its record's scores are on
    scoring = scoring_set(data)        # 1000 seeded test images where the test labels are known
    labels = models.predict(model, scoring.images)

`record_splits`: a run's validation split and the test set's public quarter, where its record
(`metrics.json`), its re-scoring and ``python -m marslib evaluate`` score it. `scoring_set`: the
images every idea of the chapter "beyond the report" is scored on.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marslib.core import checks
from marslib.training import registry

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.training.experiment import Experiment

SCORING_IMAGES = 1000  # test images every idea is scored on (a seeded random choice)


@dataclass(frozen=True)
class ScoringSet:
    """The images every idea is scored on.

    Attributes:
        images: uint8 (N, 64, 128); masks: uint8 (N, 64, 128), their true labels.
        description: which images they are, for captions.
    """

    images: np.ndarray
    masks: np.ndarray
    description: str


def scoring_set(
    data: MarsData, *, count: int = SCORING_IMAGES, seed: int = 0, profile: str | None = None
) -> ScoringSet:
    """A seeded random choice of `count` test images where the test labels are known; else the
    validation split of the recipe (the cleaned val part of `marslib.data.split`),
    as on the real file.

    Args:
        data: the data set.
        count: how many test images (all of them if there are fewer), at least 1.
        seed: seed of the choice.
        profile: the recipe's profile, for the validation split (None: `marslib.profile()`).
    """
    checks.integer("count", count)
    if data.test_masks is not None:
        chosen = np.sort(
            np.random.default_rng(seed).choice(
                len(data.test_images), min(count, len(data.test_images)), replace=False
            )
        )
        return ScoringSet(
            data.test_images[chosen],
            data.test_masks[chosen],
            f"{len(chosen)} test images ({data.source})",
        )
    from marslib.training import loop

    _, val_indices = loop.split_indices(registry.get(registry.RECIPE, profile), data)
    return ScoringSet(
        data.train_images[val_indices],
        data.train_masks[val_indices],
        f"{len(val_indices)} validation images ({data.source})",
    )


def record_splits(
    experiment: Experiment, data: MarsData, *, whole_test: bool = False
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The images a run's record is scored on, by split, as the trainer scored them.

    Args:
        experiment: the run's experiment (its validation split: `training.split_indices`).
        data: the data set.
        whole_test: score every test image instead of the public quarter.

    Returns:
        ``{"val": (images, masks), "test": (images, masks)}``, each uint8 (N, 64, 128): the
        cleaned validation split (left out for a run without one), and the test set's public
        quarter (`marslib.data.public_indices`, as Kaggle's leaderboard showed during the
        challenge and the report's Table 1 quotes), or all of it with `whole_test` (left out
        where the test labels are unknown, as in the real file).
    """
    from marslib import data as mars_data
    from marslib.training import loop

    splits = {}
    _, val_indices = loop.split_indices(experiment, data)
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
