"""The refinement net the report proposed: a second network that only answers "background or not?".

The report's weighted loss excluded background, and its model then predicted "much less
background". A small U-Net with two classes (background, non-background) is trained for that one
question, and the two answers are combined pixel by pixel (`combine`):

- where the binary net's background probability is above `threshold`, the pixel is background;
- elsewhere it gets the multi-class model's most likely **non-background** class.

    net = training.run(training.get("background_net", PROFILE))   # or its finished record
    model = refine.Refined(multi_class_model, net.load_model(), threshold=0.5)
    labels = models.predict(model, data.test_images)

The net is an ordinary run of the "background" task (`marslib.training.tasks`): the same trainer,
split, dataset, checkpoints and records as every other run, with two classes and the IoU of
background as its metric.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import pandas as pd

from marslib import metrics
from marslib.core.classes import NUM_CLASSES
from marslib.training.tasks import binary_scores as _binary_scores

# ---------------------------------------------------------------- the combination rule


def combine(probabilities: Any, background_probability: Any, threshold: float) -> Any:
    """The refinement rule, as probabilities whose most likely class is the final label.

    Args:
        probabilities: the multi-class model's softmax, float (..., 5).
        background_probability: the binary net's probability of background, float (...).
        threshold: a pixel whose background probability is strictly above it becomes background.

    Returns:
        float32 tensor (..., 5): one-hot background where the binary net says background; elsewhere
        the multi-class probabilities of classes 1..4 renormalised to sum 1, with 0 for background.
        Works on NumPy arrays and Keras tensors alike (`keras.ops`).
    """
    _check_threshold(threshold)
    probabilities = keras.ops.cast(probabilities, "float32")
    terrain = probabilities[..., 1:]
    terrain = terrain / keras.ops.maximum(
        keras.ops.sum(terrain, axis=-1, keepdims=True), keras.config.epsilon()
    )
    background = keras.ops.cast(
        keras.ops.cast(background_probability, "float32") > threshold, "float32"
    )[..., None]
    return keras.ops.concatenate([background, terrain * (1.0 - background)], axis=-1)


def _check_threshold(threshold: float) -> None:
    if (
        isinstance(threshold, bool)
        or not isinstance(threshold, (int, float))
        or not 0.0 <= threshold <= 1.0
    ):
        raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")


@keras.saving.register_keras_serializable(package="marslib")
class Refined(keras.Model):
    """A multi-class model corrected by a background net: images (B, H, W, 1) -> (B, H, W, 5).

    The output is `combine` of the two models' outputs, so its argmax is the refined label.

    Args:
        multi_class: maps images to probabilities (B, H, W, 5).
        background: maps images to probabilities (B, H, W, 2), class 0 background.
        threshold: background probability above which a pixel is background, in [0, 1].
    """

    def __init__(
        self,
        multi_class: keras.Model,
        background: keras.Model,
        threshold: float = 0.5,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        _check_threshold(threshold)
        if tuple(multi_class.output_shape)[-1] != NUM_CLASSES:
            raise ValueError(
                f"the multi-class model must output {NUM_CLASSES} classes, "
                f"got shape {multi_class.output_shape}"
            )
        if tuple(background.output_shape)[-1] != 2:
            raise ValueError(
                f"the background net must output 2 classes, got shape {background.output_shape}"
            )
        if tuple(multi_class.input_shape) != tuple(background.input_shape):
            raise ValueError(
                "the two models must take the same input, "
                f"got {multi_class.input_shape} and {background.input_shape}"
            )
        self.multi_class, self.background, self.threshold = (
            multi_class,
            background,
            float(threshold),
        )

    def call(self, inputs: Any) -> Any:
        return combine(self.multi_class(inputs), self.background(inputs)[..., 0], self.threshold)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "multi_class": keras.saving.serialize_keras_object(self.multi_class),
            "background": keras.saving.serialize_keras_object(self.background),
            "threshold": self.threshold,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Refined:
        config = dict(config)
        multi_class = keras.saving.deserialize_keras_object(config.pop("multi_class"))
        background = keras.saving.deserialize_keras_object(config.pop("background"))
        return cls(multi_class, background, **config)


# ---------------------------------------------------------------- scores


def binary_scores(
    masks: np.ndarray, background_probability: np.ndarray, threshold: float = 0.5
) -> dict[str, float]:
    """How well the background net alone finds background.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        background_probability: the net's background probability, float (N, H, W).
        threshold: a pixel is called background where the probability is strictly above it.

    Returns:
        ``"background recall"``, ``"background precision"`` and ``"background IoU"`` (NaN where
        undefined), and ``"images"``: `marslib.training.tasks.binary_scores`, the background
        task's own scores, of the answer at `threshold`.
    """
    _check_threshold(threshold)
    return _binary_scores(masks, np.asarray(background_probability) > threshold)


def threshold_sweep(
    masks: np.ndarray,
    probabilities: np.ndarray,
    background_probability: np.ndarray,
    thresholds: np.ndarray | list[float],
) -> pd.DataFrame:
    """Score the refined labels at each threshold, to choose one on validation images.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        probabilities: the multi-class model's outputs, float (N, H, W, 5).
        background_probability: the binary net's background probability, float (N, H, W).
        thresholds: the thresholds to try, each in [0, 1].

    Returns:
        DataFrame indexed by threshold with the competition "mIoU" and the columns of
        `marslib.metrics.background_scores`.
    """
    probabilities, background_probability = (
        np.asarray(probabilities),
        np.asarray(background_probability),
    )
    if probabilities.shape != (
        *np.shape(masks),
        NUM_CLASSES,
    ) or background_probability.shape != np.shape(masks):
        raise ValueError(
            f"expected masks (N, H, W), probabilities (N, H, W, {NUM_CLASSES}) and "
            "background probabilities (N, H, W); "
            f"got {np.shape(masks)}, {probabilities.shape} and {background_probability.shape}"
        )
    rows = {}
    for threshold in thresholds:
        labels = np.argmax(
            keras.ops.convert_to_numpy(
                combine(probabilities, background_probability, float(threshold))
            ),
            axis=-1,
        )
        rows[float(threshold)] = {
            "mIoU": metrics.competition_miou(masks, labels)
        } | metrics.background_scores(masks, labels)
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index.name = "threshold"
    return table
