"""The five terrain classes, their names and the one colour palette every figure uses."""

from __future__ import annotations

import numpy as np

NUM_CLASSES = 5
CLASS_NAMES: tuple[str, ...] = ("Background", "Soil", "Bedrock", "Sand", "Big Rock")
BACKGROUND, SOIL, BEDROCK, SAND, BIG_ROCK = range(NUM_CLASSES)
IMAGE_SHAPE: tuple[int, int] = (64, 128)
# The classes the competition scores (background is unlabelled ground, not a class),
# by number and by name.
SCORED_CLASSES: tuple[int, ...] = (SOIL, BEDROCK, SAND, BIG_ROCK)
SCORED_NAMES: tuple[str, ...] = tuple(CLASS_NAMES[c] for c in SCORED_CLASSES)

# RGB in [0, 1]; background dark grey, then colour-blind-friendly hues (Okabe-Ito).
PALETTE = np.array(
    [
        [0.20, 0.20, 0.20],  # Background
        [0.90, 0.62, 0.00],  # Soil: orange
        [0.34, 0.71, 0.91],  # Bedrock: sky blue
        [0.94, 0.89, 0.26],  # Sand: yellow
        [0.80, 0.47, 0.65],  # Big Rock: reddish purple
    ],
    dtype=np.float32,
)


def colorize(masks: np.ndarray) -> np.ndarray:
    """Map label masks to RGB pictures.

    Args:
        masks: integer array (..., H, W) with values in 0..4.

    Returns:
        float32 array (..., H, W, 3) in [0, 1].
    """
    masks = np.asarray(masks)
    if masks.size and (masks.min() < 0 or masks.max() >= NUM_CLASSES):
        raise ValueError(
            f"mask values must lie in 0..{NUM_CLASSES - 1}, got {masks.min()}..{masks.max()}"
        )
    return PALETTE[masks.astype(np.intp)]
