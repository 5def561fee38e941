"""What a model's mistakes are: background use, confusions, kinds of mistakes,
wrong labels followed.

errors.background_use(val_masks, predicted)   # how much background is predicted, against the truth
errors.confusions(val_masks, predicted, top=5) # which class is taken for which, largest first
errors.mistake_kinds(val_masks, predicted)     # terrain for terrain, called background, Big Rock
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from marslib import metrics
from marslib.core.classes import BACKGROUND, BIG_ROCK, CLASS_NAMES, NUM_CLASSES


def background_use(masks: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """How much background a model predicts, against how much there is.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        ``{"true background share", "predicted background share"}`` (shares of all pixels),
        ``"background recall"`` (share of true background pixels predicted background),
        ``"background precision"`` (share of predicted background pixels that are background;
        NaN when none is predicted) and ``"terrain called background"`` (share of the scored,
        non-background pixels predicted as background: the only background error the
        competition's score sees).
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    total = confusion.sum()
    true_background, predicted_background = (
        confusion[BACKGROUND].sum(),
        confusion[:, BACKGROUND].sum(),
    )
    hits = confusion[BACKGROUND, BACKGROUND]
    terrain = total - true_background
    return {
        "true background share": true_background / total,
        "predicted background share": predicted_background / total,
        "background recall": hits / true_background if true_background else float("nan"),
        "background precision": hits / predicted_background
        if predicted_background
        else float("nan"),
        "terrain called background": (predicted_background - hits) / terrain
        if terrain
        else float("nan"),
    }


def confusions(masks: np.ndarray, predicted: np.ndarray, *, top: int | None = None) -> pd.DataFrame:
    """The mistakes on the scored pixels, largest first: which true class goes to which other class.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.
        top: keep only the `top` largest (None: all sixteen).

    Returns:
        DataFrame with columns true, predicted (class names) and share (the share of the true
        class's pixels given that predicted class), one row per true class 1..4 and other
        predicted class 0..4, sorted by share, largest first.
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    rows = []
    for true in range(1, NUM_CLASSES):
        pixels = confusion[true].sum()
        for guess in range(NUM_CLASSES):
            if guess != true:
                share = confusion[true, guess] / pixels if pixels else float("nan")
                rows.append(
                    {"true": CLASS_NAMES[true], "predicted": CLASS_NAMES[guess], "share": share}
                )
    found = pd.DataFrame(rows).sort_values(
        "share", ascending=False, kind="stable", na_position="last"
    )
    return (
        found.head(top).reset_index(drop=True) if top is not None else found.reset_index(drop=True)
    )


def mistake_kinds(masks: np.ndarray, predicted: np.ndarray) -> pd.Series:
    """What the wrongly labelled scored pixels (true class 1..4) were turned into, as shares.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        Series with "terrain for terrain" (soil, bedrock and sand taken for one another),
        "called background" (any terrain class predicted background) and "involves Big Rock"
        (Big Rock taken for soil, bedrock or sand, or they for Big Rock); the shares sum to 1
        (NaN when there is no mistake).
    """
    confusion = metrics.confusion_matrix(masks, predicted).astype(np.float64)
    terrain = [c for c in range(1, NUM_CLASSES) if c != BIG_ROCK]
    kinds = {
        "terrain for terrain": confusion[np.ix_(terrain, terrain)].sum()
        - np.trace(confusion[np.ix_(terrain, terrain)]),
        "called background": confusion[1:, BACKGROUND].sum(),
        "involves Big Rock": confusion[BIG_ROCK, terrain].sum()
        + confusion[terrain, BIG_ROCK].sum(),
    }
    total = sum(kinds.values())
    return pd.Series(
        {kind: count / total if total else float("nan") for kind, count in kinds.items()}
    )


def label_following(
    predicted: np.ndarray, true_classes: Sequence[int], given_classes: Sequence[int]
) -> pd.DataFrame:
    """On images whose single-class label is wrong: does the model follow the label or the picture?

    Args:
        predicted: predicted labels, integer (K, H, W) in 0..4, one per wrongly labelled image.
        true_classes: the class each image really shows (K,).
        given_classes: the class its mask wrongly gives (K,).

    Returns:
        DataFrame (K rows) with "predicted as true class" and "predicted as given class": the
        share of each image's pixels predicted as that class.
    """
    predicted = np.asarray(predicted)
    true_classes, given_classes = np.asarray(true_classes), np.asarray(given_classes)
    if predicted.ndim != 3 or not len(predicted) == len(true_classes) == len(given_classes):
        raise ValueError(
            "predicted must be (K, H, W) with one true and one given class per image; "
            f"got {predicted.shape}, {len(true_classes)} true "
            f"and {len(given_classes)} given classes"
        )
    flat = predicted.reshape(len(predicted), -1)
    return pd.DataFrame(
        {
            "predicted as true class": (flat == true_classes[:, None]).mean(axis=1),
            "predicted as given class": (flat == given_classes[:, None]).mean(axis=1),
        }
    )
