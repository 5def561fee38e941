"""Auditing labels by texture: does what a region looks like agree with the class it was given?

The idea, a small version of confident learning (Northcutt et al., 2021): most labels are right,
so a classifier trained on all of them learns what each terrain class looks like; a region whose
label the classifier finds very unlikely, when it did not see that region in training, is a
candidate for a wrong label. A person then looks at every candidate before anything is changed.

1. Cut every image into square patches (32x32, stride 16) and keep the *pure* ones: patches whose
   pixels all carry the same terrain class (soil, bedrock or sand).
2. Describe each patch by a few texture numbers (`texture_features`): brightness, contrast,
   fine grain, gradient tails (cracks), orientation (ripples), spectrum bands, skewness, kurtosis.
3. Fit a logistic regression on the patches with out-of-fold predictions, the folds grouped by
   image, so no image is ever judged by a model that saw it.
4. For each (image, class) region, ``agreement`` is the geometric mean over its patches of the
   probability of the given class; ``suggested`` is the class the patches vote for.

`audit` returns one row per region; `monocolor_candidates` and `bicolor_candidates` pick the
regions of single- and two-class masks whose agreement falls below a threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view
from scipy import ndimage
from scipy import stats as scipy_stats
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from marslib.core.classes import BEDROCK, SAND, SOIL
from marslib.data import cleaning, stats

if TYPE_CHECKING:
    from marslib.data import MarsData

TERRAIN: tuple[int, ...] = (SOIL, BEDROCK, SAND)
FEATURE_NAMES: tuple[str, ...] = (
    "brightness",
    "log contrast",
    "fine grain",
    "medium grain",
    "log gradient tail",
    "orientation coherence",
    "log spectrum 0-0.07",
    "log spectrum 0.07-0.14",
    "log spectrum 0.14-0.28",
    "log spectrum 0.28+",
    "vertical-frequency share",
    "skewness",
    "log kurtosis",
)
SPECTRUM_BANDS = ((0.0, 0.07), (0.07, 0.14), (0.14, 0.28), (0.28, 1.0))
DEFAULT_THRESHOLD = 0.3


def texture_features(pictures: np.ndarray) -> np.ndarray:
    """Texture numbers of each picture, independent of its brightness and contrast
    except the first two.

    Args:
        pictures: array (K, h, w) of grey levels (uint8 or float), h and w at least 8.

    Returns:
        float64 array (K, len(FEATURE_NAMES)), columns as named in `FEATURE_NAMES`.
    """
    pictures = np.asarray(pictures)
    if pictures.ndim != 3 or len(pictures) == 0 or min(pictures.shape[1:]) < 8:
        raise ValueError(
            "pictures must be a non-empty stack (K, h, w) with h, w >= 8, "
            f"got shape {pictures.shape}"
        )
    x = pictures.astype(np.float64)
    count, height, width = x.shape
    centred = x - x.mean(axis=(1, 2), keepdims=True)
    contrast = centred.std(axis=(1, 2)) + 1e-3
    z = centred / contrast[:, None, None]
    fine = ndimage.gaussian_filter(z, (0, 1, 1))
    coarse = ndimage.gaussian_filter(z, (0, 3, 3))
    gy, gx = ndimage.sobel(fine, axis=1), ndimage.sobel(fine, axis=2)
    gradient = np.hypot(gx, gy).reshape(count, -1)
    jxx, jyy, jxy = (ndimage.gaussian_filter(p, (0, 4, 4)) for p in (gx * gx, gy * gy, gx * gy))
    coherence = np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy + 1e-6)
    power = np.abs(np.fft.rfft2(z)) ** 2
    fy, fx = np.abs(np.fft.fftfreq(height))[:, None], np.fft.rfftfreq(width)[None, :]
    radius = np.hypot(fy, fx)
    total = power.sum(axis=(1, 2))
    bands = [
        (power * ((radius > low) & (radius <= high))).sum(axis=(1, 2)) / total
        for low, high in SPECTRUM_BANDS
    ]
    flat = z.reshape(count, -1)
    return np.column_stack(
        [
            x.mean(axis=(1, 2)),
            np.log(contrast),
            np.abs(z - fine).mean(axis=(1, 2)),
            np.abs(fine - coarse).mean(axis=(1, 2)),
            np.log(np.percentile(gradient, 95, axis=1) / (np.median(gradient, axis=1) + 1e-3)),
            coherence.mean(axis=(1, 2)),
            *[np.log(band + 1e-6) for band in bands],
            (power * (fy > fx)).sum(axis=(1, 2)) / total,
            scipy_stats.skew(flat, axis=1),
            np.log(scipy_stats.kurtosis(flat, axis=1) + 3),
        ]
    )


def pure_patches(
    images: np.ndarray, masks: np.ndarray, *, size: int = 32, stride: int = 16
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The square patches whose pixels all carry one terrain class (soil, bedrock or sand).

    Args:
        images: uint8 (N, H, W).
        masks: integer (N, H, W), labels 0..4.
        size: patch side in pixels; stride: step between patch corners.

    Returns:
        patches uint8 (P, size, size), their class int64 (P,), and the position in `images` of the
        image each comes from, int64 (P,).
    """
    masks = stats.check_masks(masks)
    images = np.asarray(images)
    if images.shape != masks.shape:
        raise ValueError(
            f"images and masks must have the same shape, got {images.shape} and {masks.shape}"
        )
    if not (0 < size <= min(images.shape[1:]) and stride > 0):
        raise ValueError(
            f"size must lie in 1..{min(images.shape[1:])} and stride be positive, "
            f"got size {size}, stride {stride}"
        )
    image_windows = sliding_window_view(images, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    mask_windows = sliding_window_view(masks, (size, size), axis=(1, 2))[:, ::stride, ::stride]
    image_windows = image_windows.reshape(len(images), -1, size, size)
    mask_windows = mask_windows.reshape(len(masks), -1, size, size)
    first = mask_windows[:, :, 0, 0]
    pure = (mask_windows == first[:, :, None, None]).all(axis=(2, 3)) & np.isin(first, TERRAIN)
    owner, position = np.nonzero(pure)
    return (
        image_windows[owner, position].copy(),
        first[owner, position].astype(np.int64),
        owner.astype(np.int64),
    )


def audit(
    data: MarsData, indices: np.ndarray, *, folds: int = 5, size: int = 32, stride: int = 16
) -> pd.DataFrame:
    """Score how well the texture of every terrain region agrees with its label.

    Args:
        data: the loaded data set.
        indices: int array (K,) of training indices to audit (for example the cleaned ones);
            the classifier is trained on these images only.
        folds: out-of-fold splits, grouped by image.
        size, stride: the patches (see `pure_patches`).

    Returns:
        DataFrame, one row per (image, terrain class) region with at least one pure patch, sorted by
        ``agreement``: ``index`` (training index), ``label`` (given class), ``classes_in_mask``
        (1 for a single-class mask), ``patches``, ``agreement`` (geometric mean probability of the
        given class, 0..1) and ``suggested`` (the class with the highest mean log-probability).
    """
    indices = np.asarray(indices)
    images, masks = data.train_images[indices], data.train_masks[indices]
    patches, labels, owner = pure_patches(images, masks, size=size, stride=stride)
    found = np.unique(labels)
    if len(found) < 2 or len(np.unique(owner)) < folds:
        raise ValueError(
            "the audit needs pure patches of at least two terrain classes "
            f"from at least {folds} images; "
            f"got classes {found.tolist()} from {len(np.unique(owner))} images"
        )
    features = texture_features(patches)
    log_probability = np.empty((len(labels), len(found)))
    model = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
    for train, held_out in GroupKFold(n_splits=folds).split(features, labels, groups=owner):
        model.fit(features[train], labels[train])
        columns = np.searchsorted(found, model.classes_)
        log_probability[held_out] = -np.inf
        log_probability[np.ix_(held_out, columns)] = model.predict_log_proba(features[held_out])
    table = pd.DataFrame({"position": owner, "label": labels})
    for j, c in enumerate(found):
        table[f"log_p{c}"] = log_probability[:, j]
    table["log_p_given"] = log_probability[np.arange(len(labels)), np.searchsorted(found, labels)]
    regions = table.groupby(["position", "label"]).mean()
    counts = table.groupby(["position", "label"]).size()
    votes = regions[[f"log_p{c}" for c in found]].to_numpy()
    positions = regions.index.get_level_values("position").to_numpy()
    result = pd.DataFrame(
        {
            "index": indices[positions].astype(np.int64),
            "label": regions.index.get_level_values("label").to_numpy(),
            "classes_in_mask": stats.classes_per_image(masks)[positions],
            "patches": counts.to_numpy(),
            "agreement": np.exp(regions["log_p_given"].to_numpy()),
            "suggested": found[votes.argmax(axis=1)],
        }
    )
    return result.sort_values(["agreement", "index"], ignore_index=True)


def _candidates(table: pd.DataFrame, classes: int, threshold: float) -> pd.DataFrame:
    if not 0 < threshold < 1:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    chosen = (
        (table["classes_in_mask"] == classes)
        & (table["agreement"] < threshold)
        & (table["suggested"] != table["label"])
    )
    return table[chosen].reset_index(drop=True)


def monocolor_candidates(table: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The single-class masks whose texture disagrees with their class: rows of `audit`'s table
    with ``agreement < threshold`` and another suggested class."""
    return _candidates(table, 1, threshold)


def bicolor_candidates(table: pd.DataFrame, threshold: float = DEFAULT_THRESHOLD) -> pd.DataFrame:
    """The terrain regions of two-class masks whose texture disagrees with their class (rows of
    `audit`'s table, as `monocolor_candidates`)."""
    return _candidates(table, 2, threshold)


def threshold_curve(
    table: pd.DataFrame,
    truth: np.ndarray,
    *,
    classes_in_mask: int = 1,
    thresholds: np.ndarray | None = None,
) -> pd.DataFrame:
    """Precision and recall of the candidates at each threshold, against known wrong labels.

    Args:
        table: `audit`'s table.
        truth: int array of the training indices whose masks are known to be wrong (among the
            masks with `classes_in_mask` classes), e.g. ``data.meta["mislabeled_indices"]``.
        classes_in_mask: 1 for single-class candidates, 2 for two-class ones.
        thresholds: values in (0, 1); default 0.02, 0.04, ..., 0.98.

    Returns:
        DataFrame with columns ``threshold``, ``candidates``, ``precision``, ``recall`` (NaN
        precision where there is no candidate).
    """
    if thresholds is None:
        thresholds = np.round(np.arange(0.02, 1.0, 0.02), 2)
    rows = []
    for threshold in thresholds:
        found = _candidates(table, classes_in_mask, float(threshold))["index"].to_numpy()
        rows.append((float(threshold), len(found), *cleaning.score_against(found, truth)))
    return pd.DataFrame(rows, columns=["threshold", "candidates", "precision", "recall"])
