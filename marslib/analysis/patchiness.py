"""How patchy is a segmentation? Two simple measures, computed the same way
for truth and predictions.

The report noticed that its first models' outputs had "a patchy appearance": where the truth
has a few wide regions of one class, the prediction breaks them into many small islands.
Two numbers catch that, per image:

- `region_counts`: how many connected regions (4-neighbourhood, one class each) a mask holds;
- `boundary_density`: the share of neighbouring pixel pairs (left-right and up-down) whose
  labels differ, i.e. how much border there is per pixel.

Both can be restricted to the pixels the competition scores (``where=masks != 0``), so that a
model is not called patchy for what it predicts on pixels nobody labelled.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
from scipy import ndimage

from marslib.core.classes import NUM_CLASSES

# Connect pixels to their left, right, upper and lower neighbours, never across images of a stack.
_IN_PLANE_CROSS = np.zeros((3, 3, 3), dtype=bool)
_IN_PLANE_CROSS[1] = ndimage.generate_binary_structure(2, 1)


def _check(labels: np.ndarray, where: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    labels = np.asarray(labels)
    if labels.ndim != 3 or not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(
            "labels must be an integer stack (N, H, W), "
            f"got {labels.dtype} with shape {labels.shape}"
        )
    if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
        raise ValueError(
            f"labels must lie in 0..{NUM_CLASSES - 1}, got {labels.min()}..{labels.max()}"
        )
    if where is None:
        return labels, np.ones(labels.shape, dtype=bool)
    where = np.asarray(where)
    if where.shape != labels.shape or where.dtype != bool:
        raise ValueError(
            f"where must be a boolean array of the labels' shape {labels.shape}, "
            f"got {where.dtype} {where.shape}"
        )
    return labels, where


def region_counts(labels: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Number of connected one-class regions in each image.

    Args:
        labels: integer (N, H, W), values 0..4.
        where: boolean (N, H, W): only these pixels belong to regions (None: all pixels).
            A region cut in two by excluded pixels counts twice.

    Returns:
        int64 (N,): regions per image (4-neighbourhood connectivity).
    """
    labels, where = _check(labels, where)
    counts = np.zeros(len(labels), dtype=np.int64)
    image_index = np.broadcast_to(np.arange(len(labels))[:, None, None], labels.shape)
    for value in range(NUM_CLASSES):
        regions, found = ndimage.label((labels == value) & where, structure=_IN_PLANE_CROSS)
        if found:
            image_of_region = np.zeros(found + 1, dtype=np.int64)
            image_of_region[regions] = image_index  # every pixel of a region lies in one image
            counts += np.bincount(image_of_region[1:], minlength=len(labels))
    return counts


def boundary_density(labels: np.ndarray, where: np.ndarray | None = None) -> np.ndarray:
    """Share of neighbouring pixel pairs whose labels differ, in each image.

    Args:
        labels: integer (N, H, W), values 0..4.
        where: boolean (N, H, W): count only pairs whose two pixels are both in it
            (None: all pairs).

    Returns:
        float64 (N,) in [0, 1]; NaN for an image with no pair to count.
    """
    labels, where = _check(labels, where)
    differ = same_pairs = 0
    for axis in (1, 2):
        first = [slice(None)] * 3
        second = [slice(None)] * 3
        first[axis], second[axis] = slice(None, -1), slice(1, None)
        counted = where[tuple(first)] & where[tuple(second)]
        changes = (labels[tuple(first)] != labels[tuple(second)]) & counted
        differ = differ + changes.sum(axis=(1, 2))
        same_pairs = same_pairs + counted.sum(axis=(1, 2))
    return np.divide(differ, same_pairs, out=np.full(len(labels), np.nan), where=same_pairs > 0)


def table(
    masks: np.ndarray, predictions: Mapping[str, np.ndarray], *, scored_only: bool = True
) -> pd.DataFrame:
    """Both measures, averaged over the images, for the truth and each model's predictions.

    Args:
        masks: true labels, integer (N, H, W).
        predictions: {model name: predicted labels (N, H, W)}.
        scored_only: measure only on the pixels the competition scores (true label not background).

    Returns:
        DataFrame indexed by "truth" then the model names, columns "regions per image",
        "boundary density" and "regions / truth's" (the region count relative to the truth's).
    """
    where = np.asarray(masks) != 0 if scored_only else None
    rows = {}
    for name, labels in {"truth": masks, **predictions}.items():
        rows[name] = {
            "regions per image": float(region_counts(labels, where).mean()),
            "boundary density": float(np.nanmean(boundary_density(labels, where))),
        }
    result = pd.DataFrame(rows).T
    result["regions / truth's"] = (
        result["regions per image"] / result.loc["truth", "regions per image"]
    )
    return result
