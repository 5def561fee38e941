"""Auditing labels with a trained model: which masks does the model most strongly disagree with?

Confident learning (Northcutt et al., 2021) in the form it takes for segmentation:

1. A trained model gives every pixel probabilities over the four terrain classes (background is
   left out: its labels are the least reliable, and the report's models barely learn it).
2. **Per-class thresholds.** ``t_k`` is the mean probability of class k over the pixels labelled
   k: how confident the model usually is when it is right about k. A model that under-predicts
   Big Rock gets a low Big Rock threshold, so its rare confident rock pixels still count.
3. **Confident label** of a pixel: among the classes whose probability reaches their threshold,
   the most likely; none if no class reaches it. A pixel is **confidently contradicted** when it
   has a confident label and that label is not the given one.
4. Each image gets two scores over its terrain pixels: ``contradicted``, the share of them
   confidently contradicted, and ``disagreement``, the mean of 1 - p(given label).

Images are ranked by one of the scores and a person reviews the top of the list. Where the true
label errors are known (the synthetic set's ``data.meta["mislabeled_indices"]``), `precision_at_k`
says how many of the top k are real errors.

    found = noise_audit.audit(model, data.train_images, data.train_masks, indices=cleaned)
    suspects = found.ranking("contradicted")[:20]
    noise_audit.precision_at_k(found.ranking(), data.meta["mislabeled_indices"], [10, 25, 50])

The model may have seen the images it audits (in-sample) or not (out-of-fold, as the paper
recommends); a model that has memorised a wrong label agrees with it, so in-sample audits
find fewer errors.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import keras
import numpy as np
import pandas as pd

from marslib.core.classes import BACKGROUND, CLASS_NAMES, NUM_CLASSES
from marslib.data import stats

TERRAIN_NAMES: tuple[str, ...] = CLASS_NAMES[1:]
SCORES: tuple[str, ...] = ("contradicted", "disagreement")
CHUNK = 512  # images predicted at once: bounds the memory of the probabilities (N, 64, 128, 5)


def terrain_probabilities(probabilities: np.ndarray) -> np.ndarray:
    """The probabilities of classes 1..4 renormalised to sum 1 (background left out).

    Args:
        probabilities: float (..., 5), a softmax output.

    Returns:
        float32 (..., 4); column j is class j + 1.
    """
    probabilities = np.asarray(probabilities, dtype=np.float32)
    if probabilities.shape[-1] != NUM_CLASSES:
        raise ValueError(
            f"probabilities must end in {NUM_CLASSES} classes, got shape {probabilities.shape}"
        )
    terrain = probabilities[..., 1:]
    return terrain / np.maximum(terrain.sum(axis=-1, keepdims=True), np.finfo(np.float32).tiny)


def confidence_sums(probabilities: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sum and count of the probability of class k over the pixels labelled k, for k = 1..4.

    Args:
        probabilities: float (N, H, W, 5); masks: integer labels (N, H, W) in 0..4.

    Returns:
        float64 (4,) sums and int64 (4,) counts; sums / counts are the per-class thresholds.
    """
    terrain, given = _terrain_and_given(probabilities, masks)
    labelled = given >= 0
    self_confidence = np.take_along_axis(terrain, np.maximum(given, 0)[..., None], axis=-1)[..., 0]
    sums = np.bincount(given[labelled], weights=self_confidence[labelled], minlength=4)
    return sums.astype(np.float64), np.bincount(given[labelled], minlength=4).astype(np.int64)


def image_scores(
    probabilities: np.ndarray, masks: np.ndarray, thresholds: np.ndarray
) -> pd.DataFrame:
    """Each image's disagreement with its mask (see the module docstring).

    Args:
        probabilities: float (N, H, W, 5), the model's softmax.
        masks: integer labels (N, H, W) in 0..4, the labels audited.
        thresholds: float (4,), the per-class thresholds of classes 1..4.

    Returns:
        DataFrame with one row per image (0..N-1): "given" (the terrain classes of the mask, by
        name), "terrain pixels", "contradicted", "disagreement" (NaN for a mask with no terrain
        pixel) and "suggested" (the confident label most contradicted pixels get; "" if none).
    """
    thresholds = np.asarray(thresholds, dtype=np.float64)
    if thresholds.shape != (4,) or not np.all(np.isfinite(thresholds)):
        raise ValueError(f"thresholds must be 4 finite numbers (classes 1..4), got {thresholds!r}")
    terrain, given = _terrain_and_given(probabilities, masks)
    labelled = given >= 0
    reaching = terrain >= thresholds
    confident = np.where(
        reaching.any(axis=-1), np.argmax(np.where(reaching, terrain, -1.0), axis=-1), -1
    )
    contradicted = labelled & (confident >= 0) & (confident != given)
    self_confidence = np.take_along_axis(terrain, np.maximum(given, 0)[..., None], axis=-1)[..., 0]
    count = labelled.sum(axis=(1, 2))
    votes = np.stack([(contradicted & (confident == k)).sum(axis=(1, 2)) for k in range(4)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        table = pd.DataFrame(
            {
                "given": [", ".join(TERRAIN_NAMES[k] for k in np.unique(g[g >= 0])) for g in given],
                "terrain pixels": count,
                "contradicted": contradicted.sum(axis=(1, 2)) / count,
                "disagreement": np.where(labelled, 1.0 - self_confidence, 0.0).sum(axis=(1, 2))
                / count,
                "suggested": [TERRAIN_NAMES[v.argmax()] if v.any() else "" for v in votes],
            }
        )
    return table


def _terrain_and_given(
    probabilities: np.ndarray, masks: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Terrain probabilities (N, H, W, 4) and the given terrain class as 0..3
    (-1 for background)."""
    masks = stats.check_masks(masks)
    probabilities = np.asarray(probabilities)
    if probabilities.shape != (*masks.shape, NUM_CLASSES):
        raise ValueError(
            f"probabilities must be (N, H, W, {NUM_CLASSES}) for masks {masks.shape}, "
            f"got {probabilities.shape}"
        )
    return terrain_probabilities(probabilities), np.where(
        masks == BACKGROUND, -1, masks.astype(np.int64) - 1
    )


@dataclass(frozen=True)
class Audit:
    """The result of `audit`.

    Attributes:
        table: one row per audited image, indexed by its index into the images given to `audit`
            (columns of `image_scores`).
        thresholds: float64 (4,), the per-class thresholds of classes 1..4.
    """

    table: pd.DataFrame
    thresholds: np.ndarray

    def ranking(self, by: str = "contradicted") -> np.ndarray:
        """Image indices, most suspect first (images without terrain pixels last).

        Args:
            by: "contradicted" or "disagreement"; ties are broken by the other score.
        """
        if by not in SCORES:
            raise ValueError(f"by must be one of {list(SCORES)}, got {by!r}")
        other = SCORES[1 - SCORES.index(by)]
        ordered = self.table.sort_values(
            [by, other], ascending=False, na_position="last", kind="stable"
        )
        return ordered.index.to_numpy()


def _chunks(
    model: keras.Model, images: np.ndarray, batch_size: int
) -> Iterator[tuple[slice, np.ndarray]]:
    from marslib.data import to_model_input

    for start in range(0, len(images), CHUNK):
        part = slice(start, min(start + CHUNK, len(images)))
        yield part, model.predict(to_model_input(images[part]), batch_size=batch_size, verbose=0)


def audit(
    model: keras.Model,
    images: np.ndarray,
    masks: np.ndarray,
    *,
    indices: np.ndarray | None = None,
    batch_size: int = 64,
) -> Audit:
    """Score how strongly `model` disagrees with the mask of each image
    (two passes over the images).

    Args:
        model: maps float32 (B, H, W, 1) images in [0, 1] to probabilities (B, H, W, 5).
        images: uint8 (N, H, W); masks: their labels, integer (N, H, W) in 0..4.
        indices: which images to audit (default: all); the thresholds come from these images only.
        batch_size: images per forward pass.

    Returns:
        the `Audit`, its table indexed by `indices`.
    """
    images, masks = np.asarray(images), stats.check_masks(masks)
    if images.shape != masks.shape or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 with the masks' shape {masks.shape}, "
            f"got {images.dtype} {images.shape}"
        )
    indices = np.arange(len(images)) if indices is None else np.asarray(indices)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer) or len(indices) == 0:
        raise ValueError(
            f"indices must be a non-empty 1-D integer array, got {indices.dtype} {indices.shape}"
        )
    chosen_images, chosen_masks = images[indices], masks[indices]
    sums, counts = np.zeros(4), np.zeros(4, dtype=np.int64)
    for part, probabilities in _chunks(model, chosen_images, batch_size):
        more_sums, more_counts = confidence_sums(probabilities, chosen_masks[part])
        sums, counts = sums + more_sums, counts + more_counts
    thresholds = np.divide(
        sums, counts, out=np.ones(4), where=counts > 0
    )  # an absent class is never confident
    tables = [
        image_scores(p, chosen_masks[part], thresholds)
        for part, p in _chunks(model, chosen_images, batch_size)
    ]
    table = pd.concat(tables, ignore_index=True)
    table.index = pd.Index(indices, name="image")
    return Audit(table, thresholds)


def precision_at_k(
    ranking: Sequence[int] | np.ndarray, truth: Sequence[int] | np.ndarray, ks: Sequence[int]
) -> pd.Series:
    """Share of the top k of a ranking that are true errors, for each k.

    Args:
        ranking: image indices, most suspect first.
        truth: the indices whose labels are known to be wrong.
        ks: list sizes, each between 1 and len(ranking).

    Returns:
        Series indexed by k (name "precision at k").
    """
    ranking, wrong = np.asarray(ranking), set(np.asarray(truth).tolist())
    found = {}
    for k in ks:
        if (
            isinstance(k, bool)
            or not isinstance(k, (int, np.integer))
            or not 1 <= k <= len(ranking)
        ):
            raise ValueError(f"every k must be an integer in 1..{len(ranking)}, got {k!r}")
        found[int(k)] = sum(int(i) in wrong for i in ranking[:k]) / k
    return pd.Series(found, name="precision at k").rename_axis("k")
