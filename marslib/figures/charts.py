"""Charts of the class statistics and of the cleaning audit,
drawn with seaborn in the book's palette.

Each function returns the matplotlib `Figure` it drew, so a chapter can show it and a test can
read the bars back.
"""

from __future__ import annotations

from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from marslib.core.classes import CLASS_NAMES, NUM_CLASSES, PALETTE
from marslib.data import stats

_COLOURS = dict(zip(CLASS_NAMES, [tuple(c) for c in PALETTE]))


def _class_bars(ax: Axes, values: np.ndarray, labels: list[str]) -> None:
    """One bar per class in the class colours, each labelled with its text."""
    frame = pd.DataFrame({"class": list(CLASS_NAMES), "value": values})
    sns.barplot(
        frame,
        x="class",
        y="value",
        hue="class",
        palette=_COLOURS,
        saturation=1,
        legend=False,
        ax=ax,
        edgecolor="black",
        linewidth=0.5,
    )
    for patch, text in zip(ax.patches, labels):
        ax.annotate(
            text,
            (patch.get_x() + patch.get_width() / 2, patch.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    ax.set_xlabel("")


def pixel_frequency_figure(masks: np.ndarray, title: str | None = None) -> Figure:
    """The report's Figure 1: the share of the pixels of each class, on a linear and a log scale.

    Args:
        masks: integer (N, H, W), labels 0..4.
        title: a title over both panels.

    Returns:
        the figure; its two axes hold one bar per class whose height is the class's pixel
        share in %.
    """
    shares = 100 * stats.pixel_frequencies(masks)
    labels = [f"{s:.2f}%" for s in shares]
    figure, (linear, log) = plt.subplots(1, 2, figsize=(11, 3.6))
    _class_bars(linear, shares, labels)
    linear.set_ylabel("share of the pixels (%)")
    linear.set_title("linear scale")
    _class_bars(log, shares, labels)
    log.set_yscale("log")
    log.set_ylabel("share of the pixels (%, log scale)")
    log.set_title("log scale: the rare class becomes visible")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def presence_figure(masks: np.ndarray, title: str | None = None) -> Figure:
    """In how many images each class appears, and how many classes each image holds.

    Args:
        masks: integer (N, H, W), labels 0..4.
        title: a title over both panels.

    Returns:
        the figure: left, one bar per class (share of the images, %); right, one bar per number of
        classes 1..5 (number of images).
    """
    present = 100 * stats.images_per_class(masks) / len(masks)
    histogram = stats.class_count_histogram(masks)[1:]
    figure, (left, right) = plt.subplots(
        1, 2, figsize=(11, 3.6), gridspec_kw={"width_ratios": [5, 4]}
    )
    _class_bars(left, present, [f"{p:.1f}%" for p in present])
    left.set_ylabel("images containing the class (%)")
    frame = pd.DataFrame(
        {"classes in the mask": np.arange(1, NUM_CLASSES + 1), "images": histogram}
    )
    sns.barplot(
        frame,
        x="classes in the mask",
        y="images",
        color="0.55",
        ax=right,
        edgecolor="black",
        linewidth=0.5,
    )
    for patch, count in zip(right.patches, histogram):
        right.annotate(
            str(count),
            (patch.get_x() + patch.get_width() / 2, patch.get_height()),
            ha="center",
            va="bottom",
            fontsize=8,
        )
    right.set_title("single-class (1) and two-class (2) masks are the ones audited")
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def weights_figure(masks: np.ndarray, weightings: Mapping[str, np.ndarray]) -> Figure:
    """Class weights side by side, and the share of the loss each class then carries.

    Args:
        masks: integer (N, H, W), labels 0..4, the pixels the loss is averaged over.
        weightings: name -> float array (5,) of class weights (e.g. "none": ones).

    Returns:
        the figure: left, the weights (log scale, one bar group per class, one hue per weighting);
        right, `stats.loss_shares` of each weighting in %.
    """
    if not weightings:
        raise ValueError("weightings must name at least one set of class weights")
    rows = []
    for name, weights in weightings.items():
        shares = stats.loss_shares(masks, weights)
        for c in range(NUM_CLASSES):
            rows.append(
                {
                    "class": CLASS_NAMES[c],
                    "weighting": name,
                    "weight": float(weights[c]),
                    "loss share (%)": 100 * shares[c],
                }
            )
    frame = pd.DataFrame(rows)
    figure, (left, right) = plt.subplots(1, 2, figsize=(13, 4))
    sns.barplot(
        frame, x="class", y="weight", hue="weighting", ax=left, edgecolor="black", linewidth=0.3
    )
    left.set_yscale("log")
    left.set_title("class weights (log scale; 0 is not drawn)")
    sns.barplot(
        frame,
        x="class",
        y="loss share (%)",
        hue="weighting",
        ax=right,
        edgecolor="black",
        linewidth=0.3,
        legend=False,
    )
    right.set_title("share of the loss each class carries")
    for ax in (left, right):
        ax.set_xlabel("")
    figure.tight_layout()
    return figure


def threshold_figure(
    curve: pd.DataFrame, chosen: float | None = None, title: str | None = None
) -> Figure:
    """Precision and recall of an audit's candidates against the threshold on ``agreement``.

    Args:
        curve: `marslib.data.label_audit.threshold_curve`'s table.
        chosen: the threshold used, marked with a vertical line.
        title: the axes' title.

    Returns:
        the figure: one axes with a precision line, a recall line and the candidate count
        on a twin axis.
    """
    figure, ax = plt.subplots(figsize=(7, 3.4))
    ax.plot(curve["threshold"], curve["precision"], label="precision", color="tab:blue")
    ax.plot(curve["threshold"], curve["recall"], label="recall", color="tab:orange")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("threshold on the agreement with the given class")
    ax.set_ylabel("precision, recall")
    count = ax.twinx()
    count.plot(
        curve["threshold"], curve["candidates"], color="0.6", linestyle=":", label="candidates"
    )
    count.set_ylabel("candidates")
    if chosen is not None:
        ax.axvline(chosen, color="black", linewidth=0.8, linestyle="--")
    lines = ax.get_lines()[:2] + count.get_lines()
    ax.legend(lines, [line.get_label() for line in lines], loc="center right", frameon=False)
    if title:
        ax.set_title(title)
    figure.tight_layout()
    return figure
