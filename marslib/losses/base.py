"""What every loss of `marslib.losses` shares: input checks, float32 maths, per-class weights.

Inputs, for every loss:

- ``y_true``: sparse labels, an integer (or integer-valued float) tensor (B, H, W) with values 0..4;
- ``y_pred``: the model's softmax probabilities, a float tensor (B, H, W, 5) of any float dtype.

Both are cast before any arithmetic (labels to int32, probabilities to float32), so a model
running under the ``mixed_float16`` policy still gets its loss computed, and returned, in float32.
Each loss returns one float32 scalar per batch: the losses here are normalised over the whole
batch (a weighted mean over all its pixels, or a Dice over all its pixels), not image by image.

Per-class weights (``class_weights``, 5 numbers indexed by class) mean the same in every loss:
class c's pixels count w_c times, and a class with weight 0 is ignored altogether (its true
pixels leave the loss), which is how "background off" is written: ``(0, w1, w2, w3, w4)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from typing import Any

import keras
import numpy as np
from keras import ops

from marslib.core.classes import NUM_CLASSES
from marslib.losses.spec import check_class_weights

EPSILON = 1e-7  # probabilities are clipped to [EPSILON, 1 - EPSILON] before a log, as Keras does

Tensor = Any  # a backend tensor, a NumPy array or a symbolic Keras tensor


def check_non_negative(name: str, value: float) -> float:
    """Return `value` as a float if it is a finite real number >= 0,
    else raise ValueError naming it."""
    if (
        isinstance(value, bool)
        or not isinstance(value, numbers.Real)
        or not np.isfinite(value)
        or value < 0
    ):
        raise ValueError(f"{name} must be a finite number >= 0, got {value!r}")
    return float(value)


def _shape(x: Tensor) -> tuple:
    """Static shape of a tensor, array or nested list (None for an unknown dimension)."""
    return tuple(x.shape) if hasattr(x, "shape") else np.shape(x)


def check_shapes(y_true: Tensor, y_pred: Tensor) -> None:
    """Raise ValueError unless y_true is (B, H, W) sparse labels
    and y_pred (B, H, W, 5) probabilities."""
    true_shape, pred_shape = _shape(y_true), _shape(y_pred)
    if len(pred_shape) < 2 or pred_shape[-1] != NUM_CLASSES:
        raise ValueError(
            f"y_pred must be probabilities (B, H, W, {NUM_CLASSES}), got shape {pred_shape}"
        )
    if len(true_shape) != len(pred_shape) - 1:
        raise ValueError(
            f"y_true must be sparse integer labels (B, H, W) for y_pred of shape {pred_shape}, "
            f"got shape {true_shape} (one-hot labels are not accepted)"
        )
    for t, p in zip(true_shape, pred_shape[:-1]):
        if t is not None and p is not None and t != p:
            raise ValueError(
                f"y_true shape {true_shape} does not match y_pred shape {pred_shape} "
                "without its class axis"
            )


def weighted_mean(values: Tensor, weights: Tensor) -> Tensor:
    """sum(weights * values) / sum(weights) as a float32 scalar; 0 when every weight is 0."""
    return ops.divide_no_nan(ops.sum(weights * values), ops.sum(weights))


class SegmentationLoss(keras.losses.Loss):
    """Base class: checks the inputs, casts them, and hands int32 labels and float32
    probabilities to `compute`.

    Subclasses implement
    ``compute(labels int32 (B, H, W), probs float32 (B, H, W, 5)) -> float32 scalar``
    and add their own parameters to `get_config`.
    """

    def __init__(
        self, name: str, class_weights: Sequence[float] | np.ndarray | None = None
    ) -> None:
        super().__init__(name=name, reduction="sum_over_batch_size", dtype="float32")
        self.class_weights = None if class_weights is None else check_class_weights(class_weights)

    def __call__(
        self, y_true: Tensor, y_pred: Tensor, sample_weight: Tensor | None = None
    ) -> Tensor:
        if sample_weight is not None:
            raise ValueError(
                f"{type(self).__name__} does not take sample_weight: "
                "give per-class weights as class_weights instead"
            )
        check_shapes(y_true, y_pred)
        return super().__call__(y_true, y_pred)

    def call(self, y_true: Tensor, y_pred: Tensor) -> Tensor:
        labels = ops.cast(y_true, "int32")
        probs = ops.cast(y_pred, "float32")
        return self.compute(labels, probs)

    def compute(self, labels: Tensor, probs: Tensor) -> Tensor:
        raise NotImplementedError

    def pixel_weights(self, labels: Tensor) -> Tensor:
        """float32 (B, H, W): each pixel's weight, the weight of its true class
        (1 everywhere without weights)."""
        if self.class_weights is None:
            return ops.ones(ops.shape(labels), dtype="float32")
        return ops.take(ops.convert_to_tensor(self.class_weights, dtype="float32"), labels)

    def get_config(self) -> dict:
        weights = None if self.class_weights is None else list(self.class_weights)
        return {"name": self.name, "class_weights": weights}
