"""Figures of the data: galleries of images with their masks, overlays, grey-level histograms.

Every figure uses the one palette of `marslib.core.classes`. Functions return the matplotlib
`Figure` (or `Axes`) they drew on, so a chapter can show it and a test can inspect it.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from marslib.core.classes import BACKGROUND, CLASS_NAMES, NUM_CLASSES, PALETTE, colorize


def _check_pictures(name: str, array: np.ndarray) -> np.ndarray:
    array = np.asarray(array)
    if array.ndim != 3 or len(array) == 0:
        raise ValueError(f"{name} must be a non-empty stack (N, H, W), got shape {array.shape}")
    return array


def overlay(
    image: np.ndarray, mask: np.ndarray, alpha: float = 0.45, skip_background: bool = True
) -> np.ndarray:
    """Blend the class colours of `mask` over the grey `image`.

    Args:
        image: uint8 (H, W), grey levels 0..255.
        mask: integer (H, W), labels 0..4.
        alpha: weight of the class colour (0: the image only, 1: the colours only).
        skip_background: leave background pixels untinted, so the scene stays readable.

    Returns:
        float32 (H, W, 3) RGB in [0, 1]: ``(1 - alpha) * grey + alpha * colour`` where tinted.
    """
    image, mask = np.asarray(image), np.asarray(mask)
    if image.ndim != 2 or image.shape != mask.shape:
        raise ValueError(
            "image and mask must be two arrays (H, W) of one shape, "
            f"got {image.shape} and {mask.shape}"
        )
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must lie in [0, 1], got {alpha}")
    grey = np.repeat((image.astype(np.float32) / 255)[..., None], 3, axis=-1)
    blended = (1 - alpha) * grey + alpha * colorize(mask)
    if skip_background:
        blended = np.where((mask == BACKGROUND)[..., None], grey, blended)
    return blended.astype(np.float32)


def class_legend(
    figure: Figure, classes: Sequence[int] = tuple(range(NUM_CLASSES)), **options: object
) -> None:
    """Add a legend of class colours to `figure`
    (below the panels unless `options` say otherwise)."""
    handles = [Patch(color=PALETTE[c], label=CLASS_NAMES[c]) for c in classes]
    settings = {
        "loc": "lower center",
        "ncol": len(handles),
        "frameon": False,
        "bbox_to_anchor": (0.5, 0.0),
    }
    figure.legend(handles=handles, **(settings | options))


def show_gallery(
    images: np.ndarray,
    masks: np.ndarray | None = None,
    *,
    overlay_masks: bool = False,
    columns: int | None = None,
    titles: Sequence[str] | None = None,
    title: str | None = None,
    panel_width: float = 2.4,
) -> Figure:
    """A grid of images, each with its mask beside it (or tinted over it, or alone).

    Args:
        images: uint8 (N, H, W).
        masks: integer (N, H, W) with labels 0..4, or None for images alone.
        overlay_masks: tint the images with their masks instead of showing the masks beside them.
        columns: images per row (default: 3 with masks beside, else 4).
        titles: one short title per image.
        title: a title over the whole figure.
        panel_width: width in inches of one panel.

    Returns:
        the figure: one axes per panel (2 per image with masks beside), unused ones hidden.
    """
    images = _check_pictures("images", images)
    if masks is not None:
        masks = _check_pictures("masks", masks)
        if masks.shape != images.shape:
            raise ValueError(
                f"masks must have the shape of images {images.shape}, got {masks.shape}"
            )
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"titles must give one title per image ({len(images)}), got {len(titles)}")
    beside = masks is not None and not overlay_masks
    per_image = 2 if beside else 1
    columns = columns or (3 if beside else 4)
    columns = min(columns, len(images))
    rows = -(-len(images) // columns)
    height, width = images.shape[1:]
    row_height = panel_width * height / width + 0.15 + 0.25 * (titles is not None)
    extra = 0.45 * bool(title) + 0.4 * (masks is not None)  # suptitle, legend
    figure, axes = plt.subplots(
        rows,
        columns * per_image,
        figsize=(panel_width * columns * per_image, rows * row_height + extra),
        squeeze=False,
    )
    for ax in axes.ravel():
        ax.axis("off")
    for i, image in enumerate(images):
        row, column = divmod(i, columns)
        first = axes[row, column * per_image]
        if masks is not None and overlay_masks:
            first.imshow(overlay(image, masks[i]), interpolation="nearest")
        else:
            first.imshow(image, cmap="gray", vmin=0, vmax=255, interpolation="nearest")
        if beside:
            axes[row, column * per_image + 1].imshow(colorize(masks[i]), interpolation="nearest")
        if titles is not None:
            first.set_title(titles[i], fontsize=8)
    if masks is not None:
        class_legend(figure)
    if title:
        figure.suptitle(title)
    figure.tight_layout(rect=(0, 0.4 / figure.get_figheight() if masks is not None else 0, 1, 1))
    return figure


def class_histograms(
    images: np.ndarray,
    masks: np.ndarray,
    *,
    classes: Sequence[int] = tuple(range(NUM_CLASSES)),
    ax: Axes | None = None,
) -> Axes:
    """Grey-level histograms of the pixels of each class, normalised to a density.

    Args:
        images: uint8 (N, H, W).
        masks: integer (N, H, W), labels 0..4.
        classes: which classes to draw.
        ax: where to draw (default: a new figure).

    Returns:
        the axes, with one step line per class present in the masks, labelled with its name.
    """
    images, masks = _check_pictures("images", images), _check_pictures("masks", masks)
    if masks.shape != images.shape:
        raise ValueError(f"masks must have the shape of images {images.shape}, got {masks.shape}")
    if ax is None:
        ax = plt.subplots(figsize=(7, 3.2))[1]
    counts = np.bincount(
        masks.astype(np.int64).ravel() * 256 + images.ravel(), minlength=NUM_CLASSES * 256
    )
    counts = counts.reshape(NUM_CLASSES, 256)
    for c in classes:
        if counts[c].sum() == 0:
            continue
        ax.stairs(
            counts[c] / counts[c].sum(),
            np.arange(257),
            color=PALETTE[c],
            linewidth=1.8,
            label=CLASS_NAMES[c],
        )
    ax.set_xlim(0, 255)
    ax.set_xlabel("grey level")
    ax.set_ylabel("share of the class's pixels")
    ax.legend(frameon=False)
    return ax


def examples_of(
    masks: np.ndarray, label: int, count: int, *, seed: int = 0, min_share: float = 0.25
) -> np.ndarray:
    """Indices of up to `count` images where class `label` covers at least `min_share` of the
    pixels, picked at random (seeded) among them; for a rare class, the images where it covers
    the most.

    Args:
        masks: integer (N, H, W), labels 0..4.

    Returns:
        int64 array of at most `count` indices into `masks`.
    """
    masks = _check_pictures("masks", masks)
    if not 0 <= label < NUM_CLASSES:
        raise ValueError(f"label must be a class 0..{NUM_CLASSES - 1}, got {label}")
    shares = (masks == label).mean(axis=(1, 2))
    eligible = np.flatnonzero(shares >= min_share)
    if len(eligible) >= count:
        return np.sort(np.random.default_rng(seed).choice(eligible, count, replace=False)).astype(
            np.int64
        )
    ranked = np.argsort(-shares, kind="stable")[:count]
    return ranked[shares[ranked] > 0].astype(np.int64)
