"""Pictures of a trained model's results: confusion, galleries, learning curves, side by side.

    results.confusion_heatmap(data.test_masks, labels)
    results.prediction_gallery(data.test_images, data.test_masks, labels)
    results.learning_curves(record)
    results.live_beside_reference(history.history, record)
    results.comparison_gallery(images, masks, {"recipe": labels, "refined": refined}, indices=shown)
    results.sweep_figure(refine.threshold_sweep(...), alone)

Every score shown is the competition's (`marslib.metrics`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns

from marslib import metrics
from marslib.core.classes import BACKGROUND, CLASS_NAMES, colorize
from marslib.figures.plots import class_legend

if TYPE_CHECKING:
    from marslib.training.run_records import RunRecord


def confusion_heatmap(
    masks: np.ndarray,
    predicted: np.ndarray,
    *,
    normalize: bool = True,
    ax: plt.Axes | None = None,
) -> plt.Axes:
    """Seaborn heatmap of the confusion matrix (rows: true class, columns: predicted class).

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.
        normalize: show each row as shares of its true class's pixels (else pixel counts).
        ax: where to draw (default: a new figure).
    """
    counts = metrics.confusion_matrix(masks, predicted)
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 5))
    if normalize:
        shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        sns.heatmap(
            shown,
            annot=True,
            fmt=".2f",
            vmin=0,
            vmax=1,
            cmap="Blues",
            ax=ax,
            xticklabels=CLASS_NAMES,
            yticklabels=CLASS_NAMES,
            cbar_kws={"label": "share of the true class"},
        )
    else:
        sns.heatmap(
            counts,
            annot=True,
            fmt="d",
            cmap="Blues",
            ax=ax,
            xticklabels=CLASS_NAMES,
            yticklabels=CLASS_NAMES,
            cbar_kws={"label": "pixels"},
        )
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    return ax


def error_map(masks: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Where a prediction is wrong, as a picture.

    Args:
        masks: true labels, integer (..., H, W) in 0..4.
        predicted: predicted labels, same shape.

    Returns:
        float32 (..., H, W, 3): white where right, red where wrong, grey where the true label
        is background (the metric ignores those pixels).
    """
    masks, predicted = np.asarray(masks), np.asarray(predicted)
    if masks.shape != predicted.shape:
        raise ValueError(
            f"masks {masks.shape} and predictions {predicted.shape} must have the same shape"
        )
    picture = np.ones((*masks.shape, 3), dtype=np.float32)
    picture[masks != predicted] = (0.85, 0.1, 0.1)
    picture[masks == BACKGROUND] = (0.6, 0.6, 0.6)
    return picture


def prediction_gallery(
    images: np.ndarray,
    masks: np.ndarray,
    predicted: np.ndarray,
    *,
    indices: Sequence[int] | None = None,
    count: int = 4,
) -> plt.Figure:
    """One row per image: the image, its true mask, the prediction and the errors.

    Args:
        images: uint8 (N, H, W).
        masks: true labels, integer (N, H, W).
        predicted: predicted labels, integer (N, H, W).
        indices: which images to show (default: the first `count`).
        count: how many images when `indices` is None.
    """
    chosen = list(indices) if indices is not None else list(range(min(count, len(images))))
    if not chosen:
        raise ValueError("no image to show: pass at least one index")
    figure, axes = plt.subplots(len(chosen), 4, figsize=(12, 1.7 * len(chosen)), squeeze=False)
    for row, index in zip(axes, chosen):
        miou = metrics.per_image_miou(masks[index : index + 1], predicted[index : index + 1])[0]
        pictures = (
            images[index],
            colorize(masks[index]),
            colorize(predicted[index]),
            error_map(masks[index], predicted[index]),
        )
        titles = (f"image {index}", "truth", "prediction", f"errors (mIoU {miou:.2f})")
        for ax, picture, title in zip(row, pictures, titles):
            ax.imshow(
                picture,
                cmap="gray" if picture.ndim == 2 else None,
                vmin=0,
                vmax=255 if picture.ndim == 2 else None,
            )
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    figure.tight_layout()
    return figure


def live_beside_reference(
    live: Mapping[str, Sequence[float]] | pd.DataFrame,
    reference: RunRecord,
    *,
    metric: str = "miou",
    live_label: str = "trained just now",
) -> plt.Axes:
    """The validation curve of a short run trained now beside a converged reference run's.

    Args:
        live: per-epoch logs with a ``val_<metric>`` entry, e.g. a Keras ``History.history``
            dict (one value per epoch) or a history DataFrame.
        reference: the reference `RunRecord`; its kept (best) epoch is marked.
        metric: the metric, without the ``val_`` prefix.
        live_label: the live run's name in the legend.
    """
    column = f"val_{metric}"
    if column not in live:
        raise ValueError(f"the live run has no {column!r} values; it has {list(live)}")
    if column not in reference.history.columns:
        raise ValueError(f"the reference {reference.experiment.name} has no {column!r} column")
    live_values = np.asarray(live[column], dtype=float)
    kept = reference.metrics["best_epoch"]
    curve = reference.history[column].to_numpy(dtype=float)
    _, ax = plt.subplots(figsize=(7, 3.4))
    name = f"{reference.experiment.name} ({reference.experiment.profile} profile)"
    ax.plot(np.arange(1, len(curve) + 1), curve, label=name)
    ax.plot(np.arange(1, len(live_values) + 1), live_values, marker="o", label=live_label)
    ax.plot([kept + 1], [curve[kept]], "k*", markersize=12, label="its kept model")
    ax.set_xlabel("epoch")
    ax.set_ylabel(f"validation {metric}")
    ax.legend()
    return ax


def learning_curves(
    history: pd.DataFrame | RunRecord, *, metrics_shown: Sequence[str] = ("loss", "miou")
) -> plt.Figure:
    """Training and validation curves per epoch, one panel per metric, the best epoch marked.

    Args:
        history: a run's history (the DataFrame of history.csv) or its `RunRecord`.
        metrics_shown: column names without the ``val_`` prefix.
    """
    best_epoch = None
    if not isinstance(history, pd.DataFrame):
        best_epoch = history.metrics["best_epoch"]
        history = history.history
    missing = [name for name in metrics_shown if name not in history.columns]
    if missing:
        raise ValueError(f"history has no column(s) {missing}; it has {list(history.columns)}")
    figure, axes = plt.subplots(
        1, len(metrics_shown), figsize=(5 * len(metrics_shown), 3.2), squeeze=False
    )
    epochs = history["epoch"] + 1
    for ax, name in zip(axes[0], metrics_shown):
        ax.plot(epochs, history[name], marker="o", label="training")
        if f"val_{name}" in history.columns:
            ax.plot(epochs, history[f"val_{name}"], marker="o", label="validation")
        if best_epoch is not None:
            ax.axvline(best_epoch + 1, color="grey", linestyle="--", label="model kept")
        ax.set_xlabel("epoch")
        ax.set_title(name)
        ax.legend()
    figure.tight_layout()
    return figure


SWEEP_PANELS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("What the threshold trades", ("background recall", "terrain called background")),
    ("What the scores say", ("mIoU", "5-class mIoU")),
)


def sweep_figure(sweep: pd.DataFrame, alone: Mapping[str, float]) -> plt.Figure:
    """The threshold sweep as two panels of curves, the multi-class model alone as dotted lines.

    Args:
        sweep: the table of `threshold_sweep`.
        alone: the same scores for the multi-class model's own labels (e.g.
            ``metrics.score_row(metrics.scores(masks, labels, background=True))``), drawn as
            horizontal lines in the colour of their curve.
    """
    needed = {column for _, columns in SWEEP_PANELS for column in columns}
    missing = (needed - set(sweep.columns)) | (needed - set(alone))
    if missing:
        raise ValueError(
            f"sweep and alone must both hold the scores {sorted(needed)}; missing {sorted(missing)}"
        )
    figure, axes = plt.subplots(1, len(SWEEP_PANELS), figsize=(12, 3.6))
    for ax, (title, columns) in zip(axes, SWEEP_PANELS):
        for colour, column in enumerate(columns):
            ax.plot(sweep.index, sweep[column], marker=".", color=f"C{colour}", label=column)
            ax.axhline(
                alone[column], color=f"C{colour}", linestyle=":", label=f"{column}, model alone"
            )
        ax.set(xlabel="threshold on the background probability", title=title)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def comparison_gallery(
    images: np.ndarray,
    masks: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    *,
    indices: Sequence[int],
) -> plt.Figure:
    """One row per image: the image, the truth, then each model's prediction
    (titled with its mIoU there).

    Args:
        images: uint8 (N, H, W).
        masks: true labels, integer (N, H, W).
        predictions: {model name: predicted labels (N, H, W)}, in the order of the columns.
        indices: which images to show.
    """
    chosen = list(indices)
    if not chosen or not predictions:
        raise ValueError("a comparison needs at least one image index and one model's predictions")
    for name, labels in predictions.items():
        if np.shape(labels) != np.shape(masks):
            raise ValueError(
                f"predictions of {name!r} have shape {np.shape(labels)}, "
                f"the masks {np.shape(masks)}"
            )
    columns = 2 + len(predictions)
    figure, axes = plt.subplots(
        len(chosen), columns, figsize=(2.5 * columns, 1.45 * len(chosen) + 0.5), squeeze=False
    )
    for row, index in zip(axes, chosen):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"image {index}", fontsize=9)
        row[1].imshow(colorize(masks[index]), interpolation="nearest")
        row[1].set_title("truth", fontsize=9)
        for ax, (name, labels) in zip(row[2:], predictions.items()):
            miou = metrics.per_image_miou(masks[index : index + 1], labels[index : index + 1])[0]
            ax.imshow(colorize(labels[index]), interpolation="nearest")
            ax.set_title(f"{name} (mIoU {miou:.2f})", fontsize=9)
        for ax in row:
            ax.axis("off")
    class_legend(figure)
    figure.tight_layout(rect=(0, 0.35 / figure.get_figheight(), 1, 1))
    return figure
