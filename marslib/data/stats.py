"""How the classes are spread over the pixels and the images, and class weights derived from it.

Every function takes label masks as an integer array (N, H, W) with values 0..4 (see
`marslib.core.classes`); N, H and W may be anything from 1 up, so tiny hand-made masks work too.

Class weights come in three flavours, all returned as float32 arrays (5,) indexed by class:

- ``"inverse_frequency"``: ``w_c = n / n_c``, the inverse of the class's pixel share.
- ``"balanced"``: ``w_c = n / (K * n_c)`` with K the number of weighted classes; the inverse
  frequency divided by K, and exactly what scikit-learn's
  ``compute_class_weight("balanced", classes=..., y=pixels)`` returns. Each class then
  contributes the same total weight to a pixel-averaged loss.
- ``"median_frequency"``: median frequency balancing (Eigen and Fergus, 2015):
  ``f_c = n_c / (pixels of the images where c is present)``, ``w_c = median(f) / f_c``.
  A class that fills the images it appears in gets a small weight even if it is rare overall.

With ``ignore_background=True`` background pixels are left out of every count (as the
competition metric leaves them out) and class 0 gets weight 0; with ``cap`` no weight exceeds it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from marslib.core.classes import BACKGROUND, CLASS_NAMES, NUM_CLASSES

METHODS: tuple[str, ...] = ("inverse_frequency", "balanced", "median_frequency")

# The real file's pixel counts per class (background, soil, bedrock, sand, Big Rock) over its 2505
# cleaned training masks, as other students published them (book/sources.md, "The real data
# file"). Not measured by this book: kept here so that chapters compute from them, not retype.
PUBLISHED_REAL_COUNTS: np.ndarray = np.array(
    [4_988_826, 6_957_538, 4_776_810, 3_770_823, 26_963], dtype=np.int64
)
PUBLISHED_REAL_IMAGES = 2505


def check_masks(masks: np.ndarray) -> np.ndarray:
    """Validate label masks: a non-empty integer array (N, H, W) with values in 0..4."""
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(
            "masks must be an array (N, H, W), "
            f"got {masks.ndim} dimensions with shape {masks.shape}"
        )
    if masks.size == 0:
        raise ValueError(f"masks must hold at least one pixel, got shape {masks.shape}")
    if not np.issubdtype(masks.dtype, np.integer):
        raise ValueError(f"masks must have an integer dtype (class labels), got {masks.dtype}")
    low, high = int(masks.min()), int(masks.max())
    if low < 0 or high >= NUM_CLASSES:
        raise ValueError(
            f"mask values must lie in 0..{NUM_CLASSES - 1}, got values in {low}..{high}"
        )
    return masks


def pixel_counts(masks: np.ndarray) -> np.ndarray:
    """Number of pixels of each class.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array (5,): pixels labelled 0, 1, 2, 3, 4.
    """
    masks = check_masks(masks)
    return np.bincount(masks.ravel(), minlength=NUM_CLASSES).astype(np.int64)


def pixel_frequencies(masks: np.ndarray) -> np.ndarray:
    """Share of the pixels that each class covers.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        float64 array (5,) summing to 1.
    """
    counts = pixel_counts(masks)
    return counts / counts.sum()


def presence(masks: np.ndarray) -> np.ndarray:
    """Which classes appear in which image.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        bool array (N, 5): ``[i, c]`` is True when image i holds at least one pixel of class c.
    """
    masks = check_masks(masks)
    flat = masks.reshape(len(masks), -1)
    return np.stack([(flat == c).any(axis=1) for c in range(NUM_CLASSES)], axis=1)


def images_per_class(masks: np.ndarray) -> np.ndarray:
    """Number of images in which each class appears at least once.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array (5,).
    """
    return presence(masks).sum(axis=0).astype(np.int64)


def classes_per_image(masks: np.ndarray) -> np.ndarray:
    """How many different classes each mask holds (1 for a single-class mask).

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array (N,) with values 1..5.
    """
    return presence(masks).sum(axis=1).astype(np.int64)


def class_count_histogram(masks: np.ndarray) -> np.ndarray:
    """How many masks hold exactly k different classes.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array (6,): entry k counts the masks with k classes (entry 0 is always 0).
    """
    return np.bincount(classes_per_image(masks), minlength=NUM_CLASSES + 1).astype(np.int64)


def frequency_table(masks: np.ndarray) -> pd.DataFrame:
    """One row per class: pixels, pixel share, images containing it and their share.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        DataFrame indexed by class name with columns ``pixels`` (int), ``share`` (float, sums to 1),
        ``images`` (int) and ``image_share`` (float, fraction of the N images).
    """
    masks = check_masks(masks)
    counts = pixel_counts(masks)
    images = images_per_class(masks)
    return pd.DataFrame(
        {
            "pixels": counts,
            "share": counts / counts.sum(),
            "images": images,
            "image_share": images / len(masks),
        },
        index=pd.Index(CLASS_NAMES, name="class"),
    )


def class_weights(
    masks: np.ndarray,
    method: str = "balanced",
    *,
    ignore_background: bool = False,
    cap: float | None = None,
) -> np.ndarray:
    """Per-class loss weights from the pixel statistics of `masks` (see the module docstring).

    Args:
        masks: integer array (N, H, W) with values 0..4.
        method: one of `METHODS`: "inverse_frequency", "balanced" or "median_frequency".
        ignore_background: leave background pixels out of the statistics and give class 0 weight 0.
        cap: if given (> 0), no weight exceeds it.

    Returns:
        float32 array (5,): the weight of class 0, 1, 2, 3, 4.

    Raises:
        ValueError: bad masks, an unknown method, a cap that is not positive, or a weighted class
            with no pixel at all (its weight would be infinite).
    """
    masks = check_masks(masks)
    if method not in METHODS:
        raise ValueError(f"unknown class weight method {method!r}; known methods: {list(METHODS)}")
    if cap is not None and not (np.isfinite(cap) and cap > 0):
        raise ValueError(f"cap must be a positive number or None, got {cap!r}")
    weighted = np.arange(NUM_CLASSES)
    if ignore_background:
        weighted = weighted[weighted != BACKGROUND]
    counts = pixel_counts(masks)[weighted].astype(np.float64)
    absent = [CLASS_NAMES[c] for c in weighted[counts == 0]]
    if absent:
        raise ValueError(
            f"no pixel of class(es) {absent} in these masks, so their weight would be infinite; "
            "use masks that contain every weighted class (or ignore_background=True for background)"
        )
    if method == "inverse_frequency":
        chosen = counts.sum() / counts
    elif method == "balanced":
        chosen = counts.sum() / (len(weighted) * counts)
    else:
        present = presence(masks)[:, weighted]
        image_pixels = masks[0].size
        if ignore_background:
            # Only the non-background pixels of an image count towards its size.
            image_pixels = (masks != BACKGROUND).reshape(len(masks), -1).sum(axis=1)[:, None]
        pixels_where_present = (present * image_pixels).sum(axis=0).astype(np.float64)
        frequency = counts / pixels_where_present
        chosen = np.median(frequency) / frequency
    weights = np.zeros(NUM_CLASSES, dtype=np.float64)
    weights[weighted] = chosen
    if cap is not None:
        weights = np.minimum(weights, cap)
    return weights.astype(np.float32)


def loss_shares(masks: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """What a weighting does: the share of a pixel-weighted loss's total weight
    that goes to each class.

    With per-pixel weights ``w[label]``, class c holds ``n_c * w_c / sum_k n_k * w_k`` of the
    total weight: unweighted, that is its pixel share; with "balanced" weights, 1/K for each
    weighted class.

    Args:
        masks: integer array (N, H, W) with values 0..4.
        weights: array (5,) of non-negative class weights, not all zero on the classes present.

    Returns:
        float64 array (5,) summing to 1.
    """
    counts = pixel_counts(masks).astype(np.float64)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (NUM_CLASSES,) or not np.isfinite(weights).all() or (weights < 0).any():
        raise ValueError(
            f"weights must be {NUM_CLASSES} finite non-negative numbers, got {weights!r}"
        )
    total = counts * weights
    if total.sum() == 0:
        raise ValueError("the weights give zero weight to every pixel of these masks")
    return total / total.sum()
