"""Multi-class soft Dice loss (Milletari et al., 2016), computed over the whole batch.

For each class c, with p the predicted probabilities and t the one-hot truth of every pixel of
the batch:

    Dice_c = (2 * sum(p_c * t_c) + smooth) / (sum(p_c) + sum(t_c) + smooth)

Dice_c is the soft version of 2|P∩T| / (|P| + |T|): it grows with the overlap of the predicted
and the true region of class c, relative to their sizes, so a small class counts as much as a
large one. The loss is ``1 - mean_c Dice_c``, the mean taken over the classes.

- ``smooth`` (default 1) keeps the ratio defined for a class absent from the batch: then
  Dice_c = smooth / (sum(p_c) + smooth), close to 1 when the model predicts little of it.
  With ``smooth=0`` an absent class scores 0 (a tiny constant keeps the ratio finite, as in
  ``keras.losses.Dice``).
- ``class_weights`` turn the mean into a weighted mean over classes. A class with weight 0 is
  left out: its term leaves the mean and its true pixels leave the sums (as true-background
  pixels leave the competition metric), so ``(0, 1, 1, 1, 1)`` is "Dice without background".
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from marslib.core.classes import NUM_CLASSES
from marslib.losses.base import EPSILON, SegmentationLoss, Tensor, check_non_negative


@keras.saving.register_keras_serializable(package="marslib")
class SoftDice(SegmentationLoss):
    """Soft Dice loss, 1 - (weighted) mean over classes of the batch Dice coefficient.

    Args:
        smooth: added to numerator and denominator of every class's ratio, finite and >= 0.
        class_weights: None (all five classes count equally) or 5 non-negative weights;
            0 leaves a class out.
        name: the loss's name.
    """

    def __init__(
        self,
        smooth: float = 1.0,
        class_weights: Sequence[float] | np.ndarray | None = None,
        name: str = "dice",
    ) -> None:
        super().__init__(name=name, class_weights=class_weights)
        self.smooth = check_non_negative("smooth", smooth)

    def _per_class(self, labels: Tensor, probs: Tensor) -> Tensor:
        """float32 (5,): the soft Dice coefficient of each class over the batch
        (labels int32, probs float32)."""
        kept = ops.expand_dims(ops.cast(self.pixel_weights(labels) > 0, "float32"), -1)
        truth = ops.one_hot(labels, NUM_CLASSES, dtype="float32") * kept
        probs = probs * kept
        axes = tuple(range(len(probs.shape) - 1))
        overlap = ops.sum(truth * probs, axis=axes)
        sizes = ops.sum(truth, axis=axes) + ops.sum(probs, axis=axes)
        return (2.0 * overlap + self.smooth) / (sizes + self.smooth + EPSILON)

    def compute(self, labels: Tensor, probs: Tensor) -> Tensor:
        weights = ops.convert_to_tensor(self.class_weights or (1.0,) * NUM_CLASSES, dtype="float32")
        dice = self._per_class(labels, probs)
        return 1.0 - ops.sum(weights * dice) / ops.sum(weights)

    def get_config(self) -> dict:
        return {**super().get_config(), "smooth": self.smooth}
