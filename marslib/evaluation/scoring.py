"""The images every idea of the chapter "beyond the report" is scored on, so that scores
compare.

    scoring = scoring_set(data)        # 1000 seeded images of the public test quarter
    labels = models.predict(model, scoring.images)
    counts = record.per_image()[scoring.split][scoring.positions]  # a record's, on those images

The images a run's record is scored on are `marslib.training.splits.record_splits`; the scoring
set is drawn from them, so that an idea predicted here and a run's record compare image by
image (`marslib.analysis.additions`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marslib.core import checks
from marslib.data import public_indices
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
        split: the records' split they are drawn from: "test" (the public test quarter) or
            "val" (the validation split).
        positions: int64 (N,): each image's place in that split, as a record's per-image
            counts hold it (`RunRecord.per_image`).
    """

    images: np.ndarray
    masks: np.ndarray
    description: str
    split: str
    positions: np.ndarray


def scoring_set(
    data: MarsData, *, count: int = SCORING_IMAGES, seed: int = 0, profile: str | None = None
) -> ScoringSet:
    """A seeded random choice of `count` images of the public test quarter (the test images a
    record is scored on) where the test labels are known; else the validation split of the
    recipe (the cleaned val part of `marslib.data.split`), as on the real file.

    Args:
        data: the data set.
        count: how many test images (all of the public quarter if it has fewer), at least 1.
        seed: seed of the choice.
        profile: the recipe's profile, for the validation split (None: `marslib.profile()`).
    """
    checks.integer("count", count)
    if data.test_masks is not None:
        public = public_indices(len(data.test_masks))
        positions = np.sort(
            np.random.default_rng(seed).choice(len(public), min(count, len(public)), replace=False)
        ).astype(np.int64)
        chosen = public[positions]
        return ScoringSet(
            data.test_images[chosen],
            data.test_masks[chosen],
            f"{len(chosen)} images of the public test quarter ({data.source})",
            "test",
            positions,
        )
    _, val_indices = split_indices(registry.get(registry.RECIPE, profile), data)
    return ScoringSet(
        data.train_images[val_indices],
        data.train_masks[val_indices],
        f"{len(val_indices)} validation images ({data.source})",
        "val",
        np.arange(len(val_indices), dtype=np.int64),
    )
