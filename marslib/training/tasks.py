"""What a run learns and how it is scored: the competition's five classes, or background alone.

- ``terrain``: the five classes as labelled, monitored and scored by the competition's mIoU
  (classes 1..4, background pixels ignored; `marslib.metrics`);
- ``background``: background (0) against terrain (1), the refinement net's question
  (`marslib.evaluation.refine`), monitored and scored by the IoU of background.

`marslib.training.loop.run` trains either through the same loop, split, datasets, checkpoints
and records; only the labels, the number of outputs, the monitored metric and the scores differ.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from marslib.core import checks
from marslib.core.classes import BACKGROUND, NUM_CLASSES


def background_targets(masks: np.ndarray) -> np.ndarray:
    """The background task's labels: 0 where a pixel is background, 1 where it is terrain.

    Args:
        masks: integer (N, H, W) labels 0..4.

    Returns:
        uint8 (N, H, W).
    """
    masks = checks.labels("masks", masks, empty=False)
    return (masks != BACKGROUND).astype(np.uint8)


def binary_scores(masks: np.ndarray, called_background: np.ndarray) -> dict[str, float]:
    """How well a background/terrain answer finds background.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        called_background: bool (N, H, W), True where the answer is "background".

    Returns:
        ``"background recall"``, ``"background precision"`` and ``"background IoU"`` (NaN where
        undefined), and ``"images"``.
    """
    truth = background_targets(masks) == 0
    called = np.asarray(called_background)
    if called.shape != truth.shape or called.dtype != bool:
        raise ValueError(
            f"called_background must be bool of the masks' shape {truth.shape}, "
            f"got {called.dtype} {called.shape}"
        )
    both = float(np.sum(truth & called))
    wholes = {
        "background recall": truth.sum(),
        "background precision": called.sum(),
        "background IoU": np.sum(truth | called),
    }
    found = {name: both / float(whole) if whole else float("nan") for name, whole in wholes.items()}
    return found | {"images": int(len(truth))}


@dataclass(frozen=True)
class Task:
    """One kind of run.

    Attributes:
        name: "terrain" or "background".
        num_classes: the model's outputs.
        metric_name: the name of the metric logged each epoch (history column; "val_" + it is
            monitored for the best epoch and early stopping).
        score_name: the key of the split scores that a record's score is (``metrics[split][...]``).
    """

    name: str
    num_classes: int
    metric_name: str
    score_name: str

    def targets(self, masks: np.ndarray) -> np.ndarray:
        """The labels the model learns, uint8 (N, H, W), from the masks (labels 0..4)."""
        return (
            background_targets(masks)
            if self.name == "background"
            else checks.labels("masks", masks)
        )

    def metric(self) -> Any:
        """A fresh Keras metric for `model.compile` (imports Keras)."""
        import keras

        from marslib import metrics

        if self.name == "background":
            return keras.metrics.IoU(
                num_classes=2, target_class_ids=[0], sparse_y_pred=False, name=self.metric_name
            )
        return metrics.CompetitionMeanIoU(name=self.metric_name)

    def loss(self, spec: str, class_weights: np.ndarray | None, options: dict[str, Any]) -> Any:
        """The loss the model trains with (imports Keras): the experiment's spec for the terrain
        task; two-class cross-entropy for the background task (its spec is checked to be "scce")."""
        import keras

        from marslib import losses

        if self.name == "background":
            return keras.losses.SparseCategoricalCrossentropy()
        return losses.get(spec, class_weights=class_weights, **options)

    def scores(self, masks: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
        """A split's scores from the true masks (0..4) and the model's labels
        (argmax of its outputs)."""
        from marslib import metrics

        if self.name == "background":
            return binary_scores(masks, np.asarray(predicted) == 0)
        return metrics.scores(masks, predicted)


TASKS: dict[str, Task] = {
    "terrain": Task("terrain", NUM_CLASSES, "miou", "miou"),
    "background": Task("background", 2, "background_iou", "background IoU"),
}


def get(name: str) -> Task:
    """The task called `name` ("terrain" or "background")."""
    if name not in TASKS:
        raise ValueError(f"unknown task {name!r}; known tasks: {list(TASKS)}")
    return TASKS[name]
