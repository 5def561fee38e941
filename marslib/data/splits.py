"""Which images are for what: the train/validation split and the test set's public quarter.

train_indices, val_indices = splits.split(data)          # stratified on Big Rock presence
public = splits.public_indices(len(data.test_images))    # the public leaderboard's 25 %
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from sklearn.model_selection import train_test_split

from marslib.core.classes import BIG_ROCK

if TYPE_CHECKING:
    from marslib.data.loading import MarsData

PUBLIC_SHARE = 0.25
PUBLIC_SEED = 0
# The seed of the book's one train/validation split: every run, whatever its own seed, is
# validated on the same images, so that the seeds of a recipe, and two recipes, compare there.
SPLIT_SEED = 0


def split(
    data: MarsData, val_fraction: float = 0.2, seed: int = SPLIT_SEED
) -> tuple[np.ndarray, np.ndarray]:
    """A seeded train/validation split of the training images, stratified on Big Rock presence.

    With fewer than two images with (or without) Big Rock, stratifying is impossible and the split
    is a plain shuffled one.

    Returns:
        two sorted int64 arrays of indices into `data.train_images`: train and validation, disjoint,
        together every index once.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {val_fraction}")
    count = len(data.train_masks)
    validation = round(count * val_fraction)
    if validation < 1 or validation >= count:
        raise ValueError(
            f"val_fraction {val_fraction} of {count} images leaves an empty train or validation set"
        )
    has_rock = (data.train_masks == BIG_ROCK).any(axis=(1, 2))
    stratify = has_rock if min(has_rock.sum(), (~has_rock).sum()) >= 2 else None
    train, val = train_test_split(
        np.arange(count), test_size=validation, random_state=seed, stratify=stratify
    )
    return np.sort(train).astype(np.int64), np.sort(val).astype(np.int64)


def public_indices(count: int) -> np.ndarray:
    """The fixed 25% of `count` test images the public score uses (sorted int64 indices)."""
    chosen = np.random.default_rng(PUBLIC_SEED).choice(
        count, int(round(PUBLIC_SHARE * count)), replace=False
    )
    return np.sort(chosen).astype(np.int64)
