"""Ensembles of trained runs and test-time augmentation, scored the competition's way.

Examples:

>>> from marslib import data, models
>>> from marslib.evaluation import ensemble
>>> tiny = data.synthetic_data(seed=3, n_train=40, n_test=16)
>>> members = [models.build(name, size="quick") for name in ("unet", "pspnet")]
>>> # a chapter's members are trained: training.show(name, SHOWN, data).load_model()
>>> averaged = ensemble.Ensemble(members)  # the mean of the members' probabilities
>>> labels = models.predict(averaged, tiny.train_images[:4], flip=True)  # plus flip TTA
>>> labels.shape, labels.dtype
((4, 64, 128), dtype('uint8'))
>>> table = ensemble.evaluate_models(  # each model, with and without flips
...     {"unet": members[0], "ensemble": averaged}, tiny.train_images, tiny.train_masks
... )
>>> table.index.tolist()
[('unet', False), ('unet', True), ('ensemble', False), ('ensemble', True)]

An **ensemble** averages the probabilities (B, H, W, 5) of several models and takes the most
likely class of the mean: models that err in different places outvote each other's mistakes.
**Test-time augmentation** does the same with one model and transformed copies of the input:
`marslib.figures.results.predict(..., flip=True)` predicts each image and its left-right mirror,
mirrors the second prediction back and averages the two. A mirrored Mars scene is still a Mars
scene, so the model should agree with itself; where it does not, the mean is the safer bet.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import keras
import numpy as np
import pandas as pd

from marslib import metrics
from marslib.models.inference import predict


@keras.saving.register_keras_serializable(package="marslib")
class Ensemble(keras.Model):
    """The mean of the members' outputs: images (B, H, W, 1) -> probabilities (B, H, W, C).

    A subclassed model rather than a functional one, so that members of the same architecture
    (which share a model name) can sit side by side.

    Args:
        members: at least two models with the same input and output shapes; their outputs must
            be probabilities (softmax), so that the mean is a probability too.
    """

    def __init__(self, members: Sequence[keras.Model], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        members = list(members)
        if len(members) < 2:
            raise ValueError(f"an ensemble needs at least 2 members, got {len(members)}")
        if any(not isinstance(member, keras.Model) for member in members):
            raise ValueError(
                f"members must be keras.Model objects, got {[type(m).__name__ for m in members]}"
            )
        for what in ("input_shape", "output_shape"):
            shapes = {tuple(getattr(member, what)) for member in members}
            if len(shapes) != 1:
                raise ValueError(
                    f"every member must have the same {what.replace('_', ' ')}, "
                    f"got {sorted(shapes, key=str)}"
                )
        self.members = members

    def call(self, inputs: Any) -> Any:
        outputs = [keras.ops.cast(member(inputs), "float32") for member in self.members]
        return keras.ops.mean(keras.ops.stack(outputs, axis=0), axis=0)

    def get_config(self) -> dict[str, Any]:
        return {
            **super().get_config(),
            "members": [keras.saving.serialize_keras_object(m) for m in self.members],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Ensemble:
        config = dict(config)
        members = [
            keras.saving.deserialize_keras_object(member) for member in config.pop("members")
        ]
        return cls(members, **config)


def evaluate_models(
    models: Mapping[str, keras.Model],
    images: np.ndarray,
    masks: np.ndarray,
    *,
    flips: Sequence[bool] = (False, True),
    batch_size: int = 64,
) -> pd.DataFrame:
    """Score each model with and without flip averaging
    (`marslib.models.predict`'s ``flip`` option).

    Args:
        models: name -> model taking float32 images (B, H, W, 1) in [0, 1]
            to probabilities (B, H, W, 5).
        images: uint8 (N, H, W); masks: their true labels, integer (N, H, W).
        flips: which settings of ``flip`` to score.
        batch_size: images per forward pass.

    Returns:
        DataFrame with a (model, "flip TTA") MultiIndex and the columns of
        `marslib.metrics.score_row`, background scores included.
    """
    if not models:
        raise ValueError("no model to evaluate: pass at least one name -> model pair")
    rows = {
        (name, bool(flip)): metrics.score_row(
            metrics.scores(
                masks, predict(model, images, batch_size=batch_size, flip=flip), background=True
            )
        )
        for name, model in models.items()
        for flip in flips
    }
    table = pd.DataFrame.from_dict(rows, orient="index")
    table.index = pd.MultiIndex.from_tuples(table.index, names=["model", "flip TTA"])
    return table
