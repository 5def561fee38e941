"""Judging a trained model: predictions, scores, pictures and the results table.

    labels = evaluate.predict(model, data.test_images)             # uint8 (N, 64, 128)
    evaluate.scores(data.test_masks, labels)                       # {"miou": ..., "per_class_iou": {...}}
    evaluate.confusion_heatmap(data.test_masks, labels)
    evaluate.prediction_gallery(data.test_images, data.test_masks, labels)
    evaluate.learning_curves(record)
    evaluate.results_table(train.records())

Every score is the competition's: one confusion matrix over all pixels of the set, classes
1..4, pixels whose true label is background ignored (`marslib.metrics`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import keras
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from tqdm import tqdm

from marslib import metrics
from marslib.classes import BACKGROUND, CLASS_NAMES, NUM_CLASSES, colorize

if TYPE_CHECKING:
    from marslib.train import RunRecord

CHUNK = 1024  # images converted to float32 and predicted at once: bounds memory on the 10022-image test set
SCORED_CLASSES: tuple[str, ...] = CLASS_NAMES[1:]


def predict(
    model: keras.Model,
    images: np.ndarray,
    *,
    batch_size: int = 64,
    flip: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Predicted class of every pixel.

    Args:
        model: maps float32 (B, H, W, 1) in [0, 1] to probabilities (B, H, W, 5).
        images: uint8 (N, H, W) greyscale images.
        batch_size: images per forward pass.
        flip: test-time augmentation: average the probabilities of each image and of its
            left-right mirror (mirrored back) before taking the most likely class.
        progress: show a progress bar over chunks of `CHUNK` images.

    Returns:
        uint8 (N, H, W) labels 0..4.
    """
    from marslib.data import to_model_input

    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (N, H, W), got {images.dtype} with shape {images.shape}")
    labels = np.empty(images.shape, dtype=np.uint8)
    for start in tqdm(range(0, len(images), CHUNK), desc="predict", unit="chunk", disable=not progress):
        inputs = to_model_input(images[start : start + CHUNK])
        probabilities = model.predict(inputs, batch_size=batch_size, verbose=0)
        if flip:
            mirrored = model.predict(inputs[:, :, ::-1], batch_size=batch_size, verbose=0)
            probabilities = (probabilities + mirrored[:, :, ::-1]) / 2
        labels[start : start + CHUNK] = np.argmax(probabilities, axis=-1)
    return labels


def scores(masks: np.ndarray, predicted: np.ndarray) -> dict[str, Any]:
    """The competition mIoU and the IoU of each scored class.

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        ``{"miou": float, "per_class_iou": {"Soil": float, "Bedrock": ..., "Sand": ..., "Big Rock": ...},
        "images": N}``.
    """
    per_class = metrics.per_class_iou(masks, predicted)
    return {
        "miou": float(metrics.competition_miou(masks, predicted)),
        "per_class_iou": {name: float(value) for name, value in zip(SCORED_CLASSES, per_class)},
        "images": int(len(masks)),
    }


def per_image_miou(masks: np.ndarray, predicted: np.ndarray) -> np.ndarray:
    """Each image's own mean IoU, to find the hardest images.

    Per image: the IoU of classes 1..4 over the pixels whose true label is not background,
    averaged over the classes present in the truth or the prediction (a class absent from both
    is left out instead of counting as 1.0, so one image cannot look good by being empty).

    Args:
        masks: true labels, integer (N, H, W) in 0..4.
        predicted: predicted labels, integer (N, H, W) in 0..4.

    Returns:
        float64 (N,); NaN for an image whose pixels are all background in the truth.
    """
    masks, predicted = np.asarray(masks), np.asarray(predicted)
    if masks.shape != predicted.shape or masks.ndim != 3:
        raise ValueError(f"masks and predictions must be (N, H, W) of one shape, got {masks.shape} and {predicted.shape}")
    for name, labels in (("masks", masks), ("predicted", predicted)):
        if not np.issubdtype(labels.dtype, np.integer) or labels.min() < 0 or labels.max() >= NUM_CLASSES:
            raise ValueError(f"{name} must be integer labels 0..{NUM_CLASSES - 1}, got {labels.dtype} in {labels.min()}..{labels.max()}")
    count, k = len(masks), NUM_CLASSES
    image = np.broadcast_to(np.arange(count)[:, None, None], masks.shape)
    scored = masks != BACKGROUND
    codes = (image[scored] * k + masks[scored]) * k + predicted[scored]
    confusion = np.bincount(codes, minlength=count * k * k).reshape(count, k, k)[:, 1:, :]  # true 1..4, predicted 0..4
    true_positives = np.diagonal(confusion[:, :, 1:], axis1=1, axis2=2).astype(np.float64)
    union = confusion.sum(axis=2) + confusion[:, :, 1:].sum(axis=1) - true_positives
    iou = np.full(union.shape, np.nan)
    np.divide(true_positives, union, out=iou, where=union > 0)
    present = union > 0
    totals = np.where(present, iou, 0.0).sum(axis=1)
    return np.divide(totals, present.sum(axis=1), out=np.full(count, np.nan), where=present.any(axis=1))


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
        sns.heatmap(shown, annot=True, fmt=".2f", vmin=0, vmax=1, cmap="Blues", ax=ax,
                    xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES, cbar_kws={"label": "share of the true class"})
    else:
        sns.heatmap(counts, annot=True, fmt="d", cmap="Blues", ax=ax,
                    xticklabels=CLASS_NAMES, yticklabels=CLASS_NAMES, cbar_kws={"label": "pixels"})
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
        raise ValueError(f"masks {masks.shape} and predictions {predicted.shape} must have the same shape")
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
        miou = per_image_miou(masks[index : index + 1], predicted[index : index + 1])[0]
        pictures = (images[index], colorize(masks[index]), colorize(predicted[index]),
                    error_map(masks[index], predicted[index]))
        titles = (f"image {index}", "truth", "prediction", f"errors (mIoU {miou:.2f})")
        for ax, picture, title in zip(row, pictures, titles):
            ax.imshow(picture, cmap="gray" if picture.ndim == 2 else None, vmin=0, vmax=255 if picture.ndim == 2 else None)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
    figure.tight_layout()
    return figure


def learning_curves(history: pd.DataFrame | RunRecord, *, metrics_shown: Sequence[str] = ("loss", "miou")) -> plt.Figure:
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
    figure, axes = plt.subplots(1, len(metrics_shown), figsize=(5 * len(metrics_shown), 3.2), squeeze=False)
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


def results_table(records: Sequence[RunRecord], *, per_class: str = "auto") -> pd.DataFrame:
    """One row per run, in the report's Table 1 form plus per-class IoU and provenance.

    Args:
        records: finished runs (`marslib.train.run` or `marslib.train.records`).
        per_class: which split the per-class IoU columns come from: "val", "test", or "auto"
            (test where every run has test scores, else validation).

    Returns:
        DataFrame indexed by experiment name with columns model, dataset, loss, val mIoU, test mIoU
        (on the test set's public quarter), "<class> IoU" for Soil, Bedrock, Sand and Big Rock,
        per-class split, parameters, training time (s), epochs, data source, profile, device.
        Scores are NaN where a run has no such split.
    """
    if per_class not in ("auto", "val", "test"):
        raise ValueError(f"per_class must be 'auto', 'val' or 'test', got {per_class!r}")
    if per_class == "auto":
        per_class = "test" if records and all(r.metrics["test"] for r in records) else "val"
    rows = []
    for record in records:
        experiment, found = record.experiment, record.metrics
        shown = found[per_class] or {"per_class_iou": {}}
        rows.append(
            {
                "experiment": experiment.name,
                "model": experiment.model,
                "dataset": experiment.variant,
                "loss": experiment.loss,
                "val mIoU": record.val_miou,
                "test mIoU": record.test_miou,
                **{f"{name} IoU": shown["per_class_iou"].get(name) for name in SCORED_CLASSES},
                "per-class split": per_class,
                "parameters": found["parameters"],
                "training time (s)": record.provenance["train_seconds"],
                "epochs": found["epochs_run"],
                "data source": record.provenance["data_source"],
                "profile": experiment.profile,
                "device": record.provenance["device"],
            }
        )
    columns = ["experiment", "model", "dataset", "loss", "val mIoU", "test mIoU", *(f"{name} IoU" for name in SCORED_CLASSES),
               "per-class split", "parameters", "training time (s)", "epochs", "data source", "profile", "device"]
    table = pd.DataFrame(rows, columns=columns).set_index("experiment")
    score_columns = ["val mIoU", "test mIoU", *(f"{name} IoU" for name in SCORED_CLASSES)]
    table[score_columns] = table[score_columns].astype(float)
    return table
