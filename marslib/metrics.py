"""The competition's score, and the different score the course's starter code monitored.

**The competition metric.** Pixels whose true label is background (0) are ignored; for each
terrain class c in 1..4, ``IoU_c = TP_c / (TP_c + FP_c + FN_c)`` with the counts summed over *all*
pixels of the set (one global confusion matrix, not a mean over images); the score is the mean
of the four. A pixel predicted as background when it is terrain is a false negative of its class.

A class whose union ``TP + FP + FN`` is empty (absent from the scored pixels and never predicted
on them) gets IoU 1: there was nothing to find and nothing was wrongly found. The mean is always
over the four classes, as in the formula; it matches scikit-learn's
``jaccard_score(..., labels=[1, 2, 3, 4], average="macro", zero_division=1.0)``. On a whole
validation or test set every class is present and the rule never applies; on a single image or
a tiny batch it does. With no scored pixel at all (all true background) the score is 1.

**The course's metric** (`CourseMeanIoU`): Keras' ``MeanIoU`` with true-background pixels dropped,
which averages the IoU of every class with a non-empty union, *background included*. As soon as
a model predicts background on a terrain pixel, class 0 enters the mean with IoU 0 and the mean
is taken over five classes: the monitored number is lower than the score. See
`course_vs_competition_example`.

Labels everywhere are integer arrays with values 0..4; ``y_pred_labels`` are predicted labels
(the argmax of the probabilities), ``y_pred`` of the Keras metrics the probabilities (B, H, W, 5).
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
from keras import ops

from marslib.core import checks
from marslib.core.classes import (
    BACKGROUND,
    BIG_ROCK,
    IMAGE_SHAPE,
    NUM_CLASSES,
    SCORED_CLASSES,
    SCORED_NAMES,
)

Tensor = Any  # a backend tensor, a NumPy array or a symbolic Keras tensor


def confusion_matrix(y_true: np.ndarray, y_pred_labels: np.ndarray) -> np.ndarray:
    """Count the pixels of each (true class, predicted class) pair.

    Args:
        y_true: integer array of any shape (e.g. (N, H, W)) with values 0..4.
        y_pred_labels: integer array of the same shape with values 0..4.

    Returns:
        int64 array (5, 5): ``[t, p]`` is the number of pixels of true class t predicted as p
        (true-background pixels included, in row 0).
    """
    y_true = checks.labels("y_true", y_true)
    y_pred_labels = checks.labels("y_pred_labels", y_pred_labels)
    if y_true.shape != y_pred_labels.shape:
        raise ValueError(
            "y_true and y_pred_labels must have the same shape, "
            f"got {y_true.shape} and {y_pred_labels.shape}"
        )
    pairs = y_true.ravel().astype(np.int64) * NUM_CLASSES + y_pred_labels.ravel()
    return (
        np.bincount(pairs, minlength=NUM_CLASSES**2)
        .reshape(NUM_CLASSES, NUM_CLASSES)
        .astype(np.int64)
    )


def iou_from_confusion(confusion: np.ndarray) -> np.ndarray:
    """The competition's per-class IoU from a confusion matrix, or from many at once.

    Args:
        confusion: counts (5, 5), or (..., 5, 5) for a stack of matrices; rows true class,
            columns predicted class.

    Returns:
        float64 (4,), or (..., 4): the IoU of soil, bedrock, sand and Big Rock, counting only
        pixels whose true class is not background; 1.0 for a class with an empty union.
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    if confusion.ndim < 2 or confusion.shape[-2:] != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(
            f"confusion must be a ({NUM_CLASSES}, {NUM_CLASSES}) array (or a stack of them), "
            f"got shape {confusion.shape}"
        )
    rows = list(SCORED_CLASSES)
    scored = confusion[..., rows, :]  # rows of true terrain pixels only
    true_positives = np.diagonal(confusion, axis1=-2, axis2=-1)[..., rows]
    union = scored.sum(axis=-1) + scored.sum(axis=-2)[..., rows] - true_positives
    return np.divide(true_positives, union, out=np.ones_like(union), where=union > 0)


def per_class_iou(y_true: np.ndarray, y_pred_labels: np.ndarray) -> np.ndarray:
    """The competition's IoU of classes 1..4 over all pixels given (true background ignored).

    Args:
        y_true: integer array of any shape with values 0..4.
        y_pred_labels: integer array of the same shape with values 0..4.

    Returns:
        float64 array (4,): soil, bedrock, sand, Big Rock; 1.0 for a class with an empty union.
    """
    return iou_from_confusion(confusion_matrix(y_true, y_pred_labels))


def competition_miou(y_true: np.ndarray, y_pred_labels: np.ndarray) -> float:
    """The competition score: the mean of `per_class_iou` over the four terrain classes.

    Args:
        y_true: integer array of any shape (e.g. (N, H, W)) with values 0..4.
        y_pred_labels: integer array of the same shape with values 0..4.

    Examples:

    >>> import numpy as np
    >>> from marslib import metrics
    >>> truth = np.array([[0, 1, 1, 2], [2, 3, 3, 4]])  # 0 background, 1-4 terrain
    >>> metrics.competition_miou(truth, truth)
    1.0
    >>> guess = np.array([[1, 1, 1, 2], [2, 3, 3, 3]])  # the Big Rock pixel called sand
    >>> metrics.per_class_iou(truth, guess).round(3)  # soil, bedrock, sand, Big Rock
    array([1.   , 1.   , 0.667, 0.   ])
    >>> round(metrics.competition_miou(truth, guess), 3)  # their mean
    0.667

    A pixel whose true label is background is not scored, whatever was predicted for it: the
    first pixel above costs soil nothing.
    """
    return float(per_class_iou(y_true, y_pred_labels).mean())


def pixel_accuracy(y_true: np.ndarray, y_pred_labels: np.ndarray) -> float:
    """The share of scored pixels (true label not background) predicted right.

    Not the competition's score: on imbalanced data it flatters a model that ignores a rare
    class, which costs IoU a quarter of the score but accuracy only that class's few pixels.

    Args:
        y_true: integer array of any shape with values 0..4.
        y_pred_labels: integer array of the same shape with values 0..4.

    Returns:
        The share in [0, 1] (1.0 when no pixel is scored, as `competition_miou`).
    """
    confusion = confusion_matrix(y_true, y_pred_labels)[list(SCORED_CLASSES)]
    scored = confusion.sum()
    return float(np.trace(confusion[:, 1:]) / scored) if scored else 1.0


def course_miou(y_true: np.ndarray, y_pred_labels: np.ndarray) -> float:
    """What the course's metric (`CourseMeanIoU`) reports, in NumPy.

    True-background pixels are dropped, then the IoU is averaged over every class whose union
    is not empty, class 0 included (its IoU is 0, since no true-background pixel is left).

    Args:
        y_true: integer array of any shape with values 0..4.
        y_pred_labels: integer array of the same shape with values 0..4.

    Returns:
        The mean (0.0 when no pixel is left).
    """
    confusion = confusion_matrix(y_true, y_pred_labels)
    confusion[BACKGROUND] = 0
    true_positives = np.diag(confusion).astype(np.float64)
    union = confusion.sum(axis=0) + confusion.sum(axis=1) - true_positives
    present = union > 0
    return float((true_positives[present] / union[present]).mean()) if present.any() else 0.0


def course_vs_competition_example() -> tuple[np.ndarray, np.ndarray]:
    """A 64x128 mask where the course's metric and the competition's score disagree
    (0.700 vs 0.875).

    The top quarter is background; below it four equal bands of soil, bedrock, sand and Big Rock.
    The prediction is perfect except on the lower half of the Big Rock band, predicted as
    background: 1/8 of the terrain pixels. The competition scores (1 + 1 + 1 + 0.5) / 4 = 0.875;
    the course's metric adds class 0 with IoU 0 and divides by 5: 3.5 / 5 = 0.700.

    Returns:
        (y_true, y_pred_labels): two uint8 arrays (1, 64, 128).
    """
    height, width = IMAGE_SHAPE
    truth = np.zeros(IMAGE_SHAPE, dtype=np.uint8)
    top, band = height // 4, width // len(SCORED_CLASSES)
    for i, c in enumerate(SCORED_CLASSES):
        truth[top:, i * band : (i + 1) * band] = c
    prediction = truth.copy()
    middle = top + (height - top) // 2
    prediction[middle:, (BIG_ROCK - 1) * band : BIG_ROCK * band] = BACKGROUND
    return truth[None], prediction[None]


def _check_metric_inputs(
    name: str, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None
) -> None:
    if sample_weight is not None:
        raise ValueError(f"{name} scores every pixel once and does not take sample_weight")
    true_shape, pred_shape = tuple(y_true.shape), tuple(y_pred.shape)
    if len(pred_shape) != len(true_shape) + 1 or pred_shape[-1] != NUM_CLASSES:
        raise ValueError(
            f"{name} needs y_true as sparse labels (B, H, W) and y_pred as probabilities "
            f"(B, H, W, {NUM_CLASSES}), got shapes {true_shape} and {pred_shape}"
        )


@keras.saving.register_keras_serializable(package="marslib")
class CompetitionMeanIoU(keras.metrics.Metric):
    """The competition score as a streaming Keras metric (see the module docstring).

    Accumulates one int64 confusion matrix (5, 5) over every batch it sees, so its result after a
    whole epoch is the global score over all those pixels, not a mean of per-batch scores.

    ``update_state(y_true, y_pred)``: y_true integer labels (B, H, W) with values 0..4 (labels out
    of range are not counted), y_pred probabilities (B, H, W, 5) of any float dtype; each batch may
    hold up to 2**24 pixels (counts are exact below that). ``result()``: a float32 scalar.
    """

    def __init__(self, name: str = "miou", dtype: str | None = None) -> None:
        super().__init__(name=name, dtype=dtype)
        self.confusion = self.add_variable(
            shape=(NUM_CLASSES, NUM_CLASSES),
            initializer="zeros",
            dtype="int64",
            aggregation="sum",
            name="confusion",
        )

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        _check_metric_inputs(type(self).__name__, y_true, y_pred, sample_weight)
        truth = ops.one_hot(
            ops.reshape(ops.cast(y_true, "int32"), (-1,)), NUM_CLASSES, dtype="float32"
        )
        predicted = ops.one_hot(
            ops.reshape(ops.argmax(y_pred, axis=-1), (-1,)), NUM_CLASSES, dtype="float32"
        )
        # truth^T @ predicted counts the (true, predicted) pairs;
        # a matrix product compiles with XLA.
        counts = ops.matmul(ops.transpose(truth), predicted)
        self.confusion.assign_add(ops.cast(ops.round(counts), "int64"))

    def result(self) -> Tensor:
        confusion = ops.cast(self.confusion, "float64")
        scored = confusion[1:]  # rows of true terrain pixels only
        true_positives = ops.diagonal(confusion)[1:]
        union = ops.sum(scored, axis=1) + ops.sum(scored, axis=0)[1:] - true_positives
        iou = ops.where(union > 0, ops.divide_no_nan(true_positives, union), 1.0)
        return ops.cast(ops.mean(iou), self.dtype)

    def confusion_matrix(self) -> np.ndarray:
        """The accumulated counts as an int64 NumPy array (5, 5), rows true class,
        columns predicted class."""
        return np.asarray(ops.convert_to_numpy(self.confusion), dtype=np.int64)


@keras.saving.register_keras_serializable(package="marslib")
class CourseMeanIoU(keras.metrics.MeanIoU):
    """The metric the course's starter code monitored, kept to show how it differs from the score.

    Keras' ``MeanIoU`` over the 5 classes with ``ignore_class=0`` (pixels whose true label is
    background are dropped, as the course's ``labels_to_exclude=[0]`` did): its result is the mean
    IoU over every class with a non-empty union, background included. Same inputs as
    `CompetitionMeanIoU`; the NumPy twin is `course_miou`.
    """

    def __init__(self, name: str = "course_miou", dtype: str | None = None) -> None:
        super().__init__(
            num_classes=NUM_CLASSES,
            name=name,
            dtype=dtype,
            ignore_class=BACKGROUND,
            sparse_y_true=True,
            sparse_y_pred=False,
        )

    def update_state(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> None:
        _check_metric_inputs(type(self).__name__, y_true, y_pred, sample_weight)
        super().update_state(y_true, y_pred)

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}


def scores(masks: np.ndarray, predicted: np.ndarray, *, background: bool = False) -> dict[str, Any]:
    """The scores of a set of predictions: the one scoring call of the library.

    The trainer's records (``metrics.json``), their re-scoring, ``python -m marslib evaluate``,
    the ensembles and the chapters all score predictions with it, so their numbers compare.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.
        background: also say how the prediction treats background (`background_scores`), which
            the competition's mIoU does not score.

    Returns:
        ``{"miou": float, "per_class_iou": {"Soil": float, "Bedrock": ..., "Sand": ...,
        "Big Rock": ...}, "images": N}`` (the form of a record's split scores), with
        ``"background": background_scores(masks, predicted)`` before ``"images"`` if asked.
        `score_row` makes it one row of a table.
    """
    return confusion_scores(confusion_matrix(masks, predicted), len(masks), background=background)


def confusion_scores(
    confusion: np.ndarray, images: int, *, background: bool = False
) -> dict[str, Any]:
    """`scores` from the summed confusion matrix of a set's predictions (for example the sum of
    `per_image_confusion` over some images), with no labels to compare again.

    Args:
        confusion: counts (5, 5), rows true class, columns predicted class.
        images: how many images it sums (carried into the result).
        background: also `background_scores`.
    """
    confusion = np.asarray(confusion)
    if confusion.shape != (NUM_CLASSES, NUM_CLASSES):
        raise ValueError(
            f"a confusion matrix is ({NUM_CLASSES}, {NUM_CLASSES}), got shape {confusion.shape}"
        )
    per_class = iou_from_confusion(confusion)
    found: dict[str, Any] = {
        "miou": float(per_class.mean()),
        "per_class_iou": {name: float(value) for name, value in zip(SCORED_NAMES, per_class)},
    }
    if background:
        found["background"] = _background_scores(confusion)
    found["images"] = int(images)
    return found


def score_row(found: dict[str, Any]) -> dict[str, float]:
    """One result of `scores` as a flat row for a table (e.g. ``pd.DataFrame(rows).T``).

    Args:
        found: what `scores` returned (a record's split scores have the same form).

    Returns:
        ``{"mIoU": float, "Soil IoU": float, "Bedrock IoU", "Sand IoU", "Big Rock IoU"}``, then
        the keys of `background_scores` where `found` has them; the image count left out.
    """
    row = {"mIoU": float(found["miou"])}
    row |= {f"{name} IoU": float(value) for name, value in found["per_class_iou"].items()}
    return row | {key: float(value) for key, value in found.get("background", {}).items()}


def background_scores(masks: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    """How a prediction treats background, which the competition's mIoU does not score.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        ``"background recall"``: share of the true-background pixels predicted background;
        ``"background precision"``: share of the pixels predicted background that are background;
        ``"terrain called background"``: share of the terrain pixels (classes 1..4) predicted
        background, each a false negative of its class in the competition's IoU;
        ``"5-class mIoU"``: mean IoU over all five classes and all pixels, background counted
        (a class with an empty union counts 1.0). NaN where a share has no pixel to count.
    """
    return _background_scores(confusion_matrix(masks, predicted))


def _background_scores(confusion: np.ndarray) -> dict[str, float]:
    """`background_scores` from a confusion matrix, int (5, 5), rows true, columns predicted."""
    confusion = np.asarray(confusion, dtype=np.float64)

    def share(part: float, whole: float) -> float:
        return float(part / whole) if whole else float("nan")

    return {
        "background recall": share(confusion[BACKGROUND, BACKGROUND], confusion[BACKGROUND].sum()),
        "background precision": share(
            confusion[BACKGROUND, BACKGROUND], confusion[:, BACKGROUND].sum()
        ),
        "terrain called background": share(confusion[1:, BACKGROUND].sum(), confusion[1:].sum()),
        "5-class mIoU": float(five_class_miou(confusion)),
    }


def five_class_miou(confusion: np.ndarray) -> np.ndarray:
    """The mean IoU of all five classes over all pixels, background counted (1.0 for a class
    with an empty union), of a confusion matrix (5, 5) or of a stack of them (..., 5, 5).

    Returns:
        float64 (...): one value per matrix (a 0-d array for one matrix).
    """
    confusion = np.asarray(confusion, dtype=np.float64)
    hits = np.diagonal(confusion, axis1=-2, axis2=-1)
    union = confusion.sum(axis=-1) + confusion.sum(axis=-2) - hits
    return np.divide(hits, union, out=np.ones_like(union), where=union > 0).mean(axis=-1)


def per_image_miou(masks: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each image's own mean IoU, to find the hardest images.

    Per image: the IoU of classes 1..4 over the pixels whose true label is not background,
    averaged over the classes present in the truth or the prediction (a class absent from both
    is left out instead of counting as 1.0, so one image cannot look good by being empty). This
    differs from `competition_miou` applied to one image, where such a class scores 1.0; over a
    whole set every class is present and the two rules agree.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        float64 (N,); NaN for an image whose pixels are all background in the truth.
    """
    confusion = per_image_confusion(masks, predicted)[:, 1:, :]  # true 1..4, predicted 0..4
    true_positives = np.diagonal(confusion[:, :, 1:], axis1=1, axis2=2).astype(np.float64)
    union = confusion.sum(axis=2) + confusion[:, :, 1:].sum(axis=1) - true_positives
    iou = np.full(union.shape, np.nan)
    np.divide(true_positives, union, out=iou, where=union > 0)
    present = union > 0
    totals = np.where(present, iou, 0.0).sum(axis=1)
    count = len(confusion)
    return np.divide(
        totals, present.sum(axis=1), out=np.full(count, np.nan), where=present.any(axis=1)
    )


def per_image_confusion(masks: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each image's own confusion matrix: what a set's score is summed from.

    Summed over any subset of the images, they give that subset's `confusion_matrix`, so a
    score can be recomputed on resampled images without predicting again (the bootstrap of
    `marslib.analysis.intervals`).

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        uint16 (N, 5, 5): ``[i, t, p]`` counts the pixels of image i of true class t predicted
        as p (an image has 8,192 pixels, so the counts fit).
    """
    masks, predicted = np.asarray(masks), np.asarray(predicted)
    if masks.shape != predicted.shape or masks.ndim != 3:
        raise ValueError(
            "masks and predictions must be (N, H, W) of one shape, "
            f"got {masks.shape} and {predicted.shape}"
        )
    if masks.shape[1] * masks.shape[2] > np.iinfo(np.uint16).max:
        raise ValueError(f"images of {masks.shape[1:]} pixels overflow uint16 counts")
    checks.labels("masks", masks)
    checks.labels("predicted", predicted)
    count, k = len(masks), NUM_CLASSES
    codes = (np.arange(count)[:, None] * k * k) + (
        masks.reshape(count, -1).astype(np.int64) * k + predicted.reshape(count, -1)
    )
    return (
        np.bincount(codes.ravel(), minlength=count * k * k).reshape(count, k, k).astype(np.uint16)
    )
