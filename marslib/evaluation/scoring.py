"""The images every idea of the chapter "beyond the report" is scored on, so that scores
compare.

    scoring = scoring_set(data)        # 1000 seeded test images where the test labels are known
    labels = models.predict(model, scoring.images)

The images a run's record is scored on are `marslib.training.splits.record_splits`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marslib.core import checks
from marslib.training import registry
from marslib.training.splits import split_indices

if TYPE_CHECKING:
    from marslib.data import MarsData

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
    _, val_indices = split_indices(registry.get(registry.RECIPE, profile), data)
    return ScoringSet(
        data.train_images[val_indices],
        data.train_masks[val_indices],
        f"{len(val_indices)} validation images ({data.source})",
    )
