"""The experiments of the chapter "beyond the report": the best teams' ideas, one change at a time.

Each experiment is the report's best recipe (the ``attention_psp`` experiment of
`marslib.experiments`: Attention + PSP, augmented BigRock, weighted focal + SCCE) with one field
changed, at the same seed, so that any difference in score comes from that change:

| name               | change                                                  |
| ------------------ | ------------------------------------------------------- |
| unet_best_recipe   | model: a plain U-Net (the reference for the next row)   |
| beyond_unet_se     | model: U-Net with squeeze-and-excitation blocks         |
| beyond_cutmix      | dataset: CutMix Big Rock instead of rock crops          |
| beyond_oversampled | dataset: Big Rock images repeated instead of rock crops |

The plain U-Net keeps the name of the chapter "results" ablation run it equals
(`marslib.report_table.ablation_experiments`), so the book trains it once. The ensemble averages
the report's three best Table 1 runs (`ENSEMBLE`); the refinement net is
`marslib.refine.background_experiment`. All of them are scored on the same images (`scoring_set`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import matplotlib.pyplot as plt
import numpy as np

from marslib import evaluate, experiments, plots
from marslib.classes import colorize

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.train import Experiment

RECIPE = "attention_psp"
ENSEMBLE: tuple[str, ...] = ("attention_psp", "deeplabv3_bigrock", "pspnet")  # the report's three best on Kaggle
CHANGES: dict[str, dict[str, Any]] = {
    # The same config as chapter 12's ablation run of that name, so `train.run` reuses that record.
    "unet_best_recipe": {"model": "unet", "description": "U-Net / augmented BigRock / weighted focal + SCCE"},
    "beyond_unet_se": {
        "model": "unet", "model_options": {"se": True},
        "description": "U-Net + SE / augmented BigRock / weighted focal + SCCE",
    },
    "beyond_cutmix": {
        "variant": "cutmix_bigrock", "description": "Attention + PSP / CutMix BigRock / weighted focal + SCCE",
    },
    "beyond_oversampled": {
        "variant": "oversampled_bigrock", "description": "Attention + PSP / oversampled BigRock / weighted focal + SCCE",
    },
}
SCORING_IMAGES = 1000  # test images every idea is scored on (a seeded random choice)


def experiment(name: str, profile: str | None = None) -> Experiment:
    """The chapter's experiment `name` (a key of `CHANGES`) at a profile's scale."""
    if name not in CHANGES:
        raise ValueError(f"unknown experiment {name!r}; this chapter's experiments: {list(CHANGES)}")
    return experiments.from_config({"base": RECIPE, "name": name, **CHANGES[name]}, profile)


@dataclass(frozen=True)
class ScoringSet:
    """The images every idea is scored on.

    Attributes:
        images: uint8 (N, 64, 128); masks: uint8 (N, 64, 128), their true labels.
        description: which images they are, for captions.
    """

    images: np.ndarray
    masks: np.ndarray
    description: str


def scoring_set(data: MarsData, *, count: int = SCORING_IMAGES, seed: int = 0, profile: str | None = None) -> ScoringSet:
    """A seeded random choice of `count` test images where the test labels are known; else the
    validation split of the recipe (the cleaned val part of `marslib.data.split`), as on the real file.

    Args:
        data: the data set.
        count: how many test images (all of them if there are fewer), at least 1.
        seed: seed of the choice.
        profile: the recipe's profile, for the validation split (None: `marslib.profile()`).
    """
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"count must be a positive integer, got {count!r}")
    if data.test_masks is not None:
        chosen = np.sort(np.random.default_rng(seed).choice(len(data.test_images), min(count, len(data.test_images)), replace=False))
        return ScoringSet(data.test_images[chosen], data.test_masks[chosen], f"{len(chosen)} test images ({data.source})")
    from marslib import train

    _, val_indices = train.split_indices(experiments.get_experiment(RECIPE, profile), data)
    return ScoringSet(
        data.train_images[val_indices], data.train_masks[val_indices], f"{len(val_indices)} validation images ({data.source})"
    )


def side_by_side(
    images: np.ndarray,
    masks: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    indices: Sequence[int],
) -> plt.Figure:
    """One row per image: the image, its true mask, then each prediction titled with its own mIoU.

    Args:
        images: uint8 (N, H, W); masks: true labels, integer (N, H, W).
        predictions: name -> predicted labels, integer (N, H, W), in the column order wanted.
        indices: which images to show (at least one).
    """
    chosen = list(indices)
    if not chosen or not predictions:
        raise ValueError("side_by_side needs at least one index and one prediction")
    for name, labels in predictions.items():
        if np.shape(labels) != np.shape(masks):
            raise ValueError(f"prediction {name!r} has shape {np.shape(labels)}, the masks {np.shape(masks)}")
    columns = 2 + len(predictions)
    figure, axes = plt.subplots(len(chosen), columns, figsize=(2.6 * columns, 1.55 * len(chosen) + 0.5), squeeze=False)
    for row, index in zip(axes, chosen):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"image {index}", fontsize=9)
        row[1].imshow(colorize(masks[index]))
        row[1].set_title("truth", fontsize=9)
        for ax, (name, labels) in zip(row[2:], predictions.items()):
            miou = evaluate.per_image_miou(masks[index : index + 1], labels[index : index + 1])[0]
            ax.imshow(colorize(labels[index]))
            ax.set_title(f"{name} ({miou:.2f})", fontsize=9)
        for ax in row:
            ax.axis("off")
    figure.tight_layout(rect=(0, 0.06, 1, 1))
    plots.class_legend(figure)
    return figure
