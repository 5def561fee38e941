"""How well does a model place borders? Accuracy as a function of the distance
to the nearest true border.

A model that sees the image at a coarse resolution (DeepLabV3 predicts at 1/8 of it and
upsamples) can be right inside wide regions and wrong along their edges. Binning the scored
pixels by how far they lie from the nearest pixel of another class in the truth shows it::

    distances = borders.distance_to_border(masks)                  # int (N, H, W)
    borders.accuracy_by_distance(masks, {"U-Net": a, "DeepLabV3": b})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import ndimage

from marslib.core.classes import BACKGROUND

DEFAULT_EDGES: tuple[int, ...] = (1, 2, 4, 8, 16)


def distance_to_border(masks: np.ndarray) -> np.ndarray:
    """Chessboard distance of every pixel to the nearest pixel of another class, per image.

    A pixel with a neighbour (8-neighbourhood) of another class is at distance 1; an image of a
    single class has no border, and all its pixels get a distance larger than the image.

    Args:
        masks: integer labels (N, H, W).

    Returns:
        int64 (N, H, W), at least 1.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3 or not np.issubdtype(masks.dtype, np.integer):
        raise ValueError(
            f"masks must be an integer stack (N, H, W), got {masks.dtype} with shape {masks.shape}"
        )
    distances = np.empty(masks.shape, dtype=np.int64)
    far = sum(masks.shape[1:])
    for index, mask in enumerate(masks):
        distance = np.full(mask.shape, far, dtype=np.int64)
        for value in np.unique(mask):
            inside = mask == value
            if not inside.all():
                # distance from each pixel of the class to the nearest pixel outside it
                distance[inside] = ndimage.distance_transform_cdt(inside, metric="chessboard")[
                    inside
                ]
        distances[index] = distance
    return distances


def accuracy_by_distance(
    masks: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    *,
    edges: Sequence[int] = DEFAULT_EDGES,
) -> pd.DataFrame:
    """Share of correctly labelled scored pixels, binned by their distance
    to the nearest true border.

    Args:
        masks: true labels, integer (N, H, W); pixels whose truth is background are left out,
            as the score does.
        predictions: {model name: predicted labels (N, H, W)}.
        edges: increasing distances that end the bins: with (1, 2, 4) the bins are 1, 2,
            3-4 and more than 4.

    Returns:
        DataFrame with one row per bin (index: the bin's label, e.g. "3-4") and columns
        "pixels" (how many scored pixels fall in the bin) and one accuracy column per model.
    """
    edges = [int(e) for e in edges]
    if not edges or edges[0] < 1 or any(b <= a for a, b in zip(edges, edges[1:])):
        raise ValueError(f"edges must be increasing positive distances, got {edges}")
    masks = np.asarray(masks)
    distances = distance_to_border(masks)
    scored = masks != BACKGROUND
    bins = np.digitize(distances, edges, right=True)  # bin i holds edges[i-1] < d <= edges[i]
    lows = [1, *(e + 1 for e in edges)]
    labels = [f"{low}" if low == high else f"{low}-{high}" for low, high in zip(lows, edges)] + [
        f"> {edges[-1]}"
    ]
    table = pd.DataFrame(index=pd.Index(labels, name="distance to border"))
    table["pixels"] = np.bincount(bins[scored], minlength=len(labels))
    for name, labels_predicted in predictions.items():
        if np.shape(labels_predicted) != masks.shape:
            raise ValueError(
                f"predictions of {name!r} have shape {np.shape(labels_predicted)}, "
                f"the masks {masks.shape}"
            )
        right = np.bincount(
            bins[scored],
            weights=(np.asarray(labels_predicted) == masks)[scored],
            minlength=len(labels),
        )
        table[name] = np.divide(
            right, table["pixels"], out=np.full(len(labels), np.nan), where=table["pixels"] > 0
        )
    return table
