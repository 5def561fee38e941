"""Pixel-wise cross-entropy losses: sparse categorical cross-entropy and sparse focal loss.

For one pixel whose true class is y and whose predicted probability of that class is p:

- cross-entropy: ``-log p``;
- focal loss (Lin et al., 2017): ``-(1 - p)**gamma * log p``; the factor ``(1 - p)**gamma``
  shrinks the loss of pixels already classified well, so the hard ones dominate. gamma = 0 is
  cross-entropy again.

Over a batch, each loss is the weighted mean ``sum_i w_i * loss_i / sum_i w_i`` where w_i is the
weight of pixel i's true class (``class_weights``; 1 for all without weights, which gives the
plain mean over all pixels). Dividing by the sum of the pixel weights, not by the number of
pixels, makes the loss independent of the overall scale of the weights and, with weights
``(0, 1, 1, 1, 1)``, equal to Keras' ``SparseCategoricalCrossentropy(ignore_class=0)``: the mean
over the non-background pixels only. A batch whose pixels all have weight 0 has loss 0.
The per-class weights of a focal loss are the alpha of Lin et al.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
from keras import ops

from marslib.core.classes import NUM_CLASSES
from marslib.losses.base import EPSILON, SegmentationLoss, Tensor, check_non_negative, weighted_mean


def true_class_probability(labels: Tensor, probs: Tensor) -> Tensor:
    """float32 (B, H, W): the predicted probability of each pixel's true class,
    clipped to [EPSILON, 1 - EPSILON].

    Args:
        labels: int32 (B, H, W) with values 0..4.
        probs: float32 (B, H, W, 5).
    """
    p = ops.sum(ops.one_hot(labels, NUM_CLASSES, dtype="float32") * probs, axis=-1)
    return ops.clip(p, EPSILON, 1.0 - EPSILON)


@keras.saving.register_keras_serializable(package="marslib")
class SparseCrossentropy(SegmentationLoss):
    """Sparse categorical cross-entropy, optionally with per-class weights
    (see the module docstring).

    Args:
        class_weights: None (every pixel counts once) or 5 non-negative weights indexed by class.
        name: the loss's name.
    """

    def __init__(
        self, class_weights: Sequence[float] | np.ndarray | None = None, name: str = "scce"
    ) -> None:
        super().__init__(name=name, class_weights=class_weights)

    def compute(self, labels: Tensor, probs: Tensor) -> Tensor:
        cross_entropy = -ops.log(true_class_probability(labels, probs))
        return weighted_mean(cross_entropy, self.pixel_weights(labels))


@keras.saving.register_keras_serializable(package="marslib")
class SparseFocalCrossentropy(SegmentationLoss):
    """Sparse focal loss with a focusing parameter gamma and optional per-class weights (alpha).

    Args:
        gamma: focusing parameter, finite and >= 0 (0 gives cross-entropy; Lin et al. used 2).
        class_weights: None (every pixel counts once) or 5 non-negative weights indexed by class.
        name: the loss's name.
    """

    def __init__(
        self,
        gamma: float = 2.0,
        class_weights: Sequence[float] | np.ndarray | None = None,
        name: str = "focal",
    ) -> None:
        super().__init__(name=name, class_weights=class_weights)
        self.gamma = check_non_negative("gamma", gamma)

    def compute(self, labels: Tensor, probs: Tensor) -> Tensor:
        p = true_class_probability(labels, probs)
        focal = -ops.power(1.0 - p, self.gamma) * ops.log(p)
        return weighted_mean(focal, self.pixel_weights(labels))

    def get_config(self) -> dict:
        return {**super().get_config(), "gamma": self.gamma}
