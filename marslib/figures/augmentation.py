"""Figures of the augmentation chapter: transform galleries, rock crops, CutMix, shares, throughput.

Every function draws one figure and returns it; images are shown in grey (0..255), masks in
`marslib.core.classes.PALETTE`, and "outlined" images carry the edges of their mask in white, so a
reader can see at a glance that image and mask moved together.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from marslib.augment.balance import Box, CutMixImages, RockCrops
from marslib.bench.measurement import Measurement
from marslib.core.classes import colorize
from marslib.figures.plots import class_legend

WINDOW_COLOUR = "#e8000b"
PATCH_COLOUR = "#00d7ff"


def mask_edges(mask: np.ndarray) -> np.ndarray:
    """bool (H, W): pixels whose right or lower neighbour has another label."""
    edges = np.zeros(mask.shape, dtype=bool)
    edges[:, :-1] |= mask[:, :-1] != mask[:, 1:]
    edges[:-1, :] |= mask[:-1, :] != mask[1:, :]
    return edges


def outlined(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """float RGB (H, W, 3) in [0, 1]: the grey image with its mask's edges drawn in white."""
    picture = np.repeat(image[..., None].astype(np.float32) / 255, 3, axis=-1)
    picture[mask_edges(mask)] = 1.0
    return picture


def _off(ax: plt.Axes) -> None:
    ax.set_xticks([])
    ax.set_yticks([])


def transform_gallery(
    results: dict[str, tuple[np.ndarray, np.ndarray]], *, title: str = "", columns: int = 4
) -> Figure:
    """Each named result as two pictures: the image with its mask's edges, and the mask.

    Args:
        results: name -> (image uint8 (H, W), mask (H, W)), e.g. {"original": ..., "hflip": ...}.
        title: the figure's title.
        columns: results per row of the grid.
    """
    rows = -(-len(results) // columns)
    fig, axes = plt.subplots(2 * rows, columns, figsize=(3.2 * columns, 3.3 * rows), squeeze=False)
    for ax in axes.ravel():
        ax.axis("off")
    for k, (name, (image, mask)) in enumerate(results.items()):
        top, bottom = (
            axes[2 * (k // columns), k % columns],
            axes[2 * (k // columns) + 1, k % columns],
        )
        top.imshow(outlined(image, mask), interpolation="nearest")
        top.set_title(name, fontsize="medium")
        bottom.imshow(colorize(mask), interpolation="nearest")
    fig.suptitle(title)
    class_legend(fig)
    fig.tight_layout(rect=(0, 0.05, 1, 0.97))
    return fig


def _box(ax: plt.Axes, box: Box, colour: str, style: str = "-") -> None:
    ax.add_patch(
        Rectangle(
            (box.left - 0.5, box.top - 0.5),
            box.width,
            box.height,
            fill=False,
            edgecolor=colour,
            lw=1.5,
            ls=style,
        )
    )


def rock_crops_figure(
    images: np.ndarray, masks: np.ndarray, crops: RockCrops, samples: Sequence[int]
) -> Figure:
    """For each chosen sample: its source with the window cut (red), the source mask,
    the new sample and its mask.

    Args:
        images, masks: uint8 (N, H, W), the stack `crops` was made from.
        crops: the result of `balance.rock_crops`.
        samples: positions in `crops` to draw.
    """
    fig, axes = plt.subplots(
        len(samples), 4, figsize=(13, 1.75 * len(samples) + 0.8), squeeze=False
    )
    for row, k in zip(axes, samples, strict=True):
        source, window = crops.sources[k], crops.windows[k]
        row[0].imshow(images[source], cmap="gray", vmin=0, vmax=255)
        row[1].imshow(colorize(masks[source]), interpolation="nearest")
        for ax in row[:2]:
            _box(ax, window, WINDOW_COLOUR)
        row[2].imshow(crops.images[k], cmap="gray", vmin=0, vmax=255)
        row[3].imshow(colorize(crops.masks[k]), interpolation="nearest")
        row[0].set_ylabel(f"image {source}", fontsize="small")
        row[2].set_ylabel("mirrored" if crops.flipped[k] else "", fontsize="small")
        for ax in row:
            _off(ax)
    for ax, name in zip(
        axes[0], ["source and window", "source mask", "new sample", "new mask"], strict=True
    ):
        ax.set_title(name, fontsize="medium")
    class_legend(fig)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    return fig


def cutmix_figure(
    images: np.ndarray, masks: np.ndarray, mixed: CutMixImages, samples: Sequence[int]
) -> Figure:
    """For each chosen CutMix image: the image it started from,
    the result with the pasted boxes (cyan), its mask.

    Args:
        images, masks: uint8 (N, H, W), the stack `mixed` was made from.
        mixed: the result of `balance.cutmix`.
        samples: positions in `mixed` to draw.
    """
    fig, axes = plt.subplots(
        len(samples), 3, figsize=(10, 1.75 * len(samples) + 0.8), squeeze=False
    )
    for row, k in zip(axes, samples, strict=True):
        row[0].imshow(images[mixed.targets[k]], cmap="gray", vmin=0, vmax=255)
        row[1].imshow(mixed.images[k], cmap="gray", vmin=0, vmax=255)
        row[2].imshow(colorize(mixed.masks[k]), interpolation="nearest")
        for patch in mixed.patches[k]:
            pasted = Box(patch.top, patch.left, patch.box.height, patch.box.width)
            for ax in row[1:]:
                _box(ax, pasted, PATCH_COLOUR)
        row[0].set_ylabel(f"image {mixed.targets[k]}", fontsize="small")
        for ax in row:
            _off(ax)
    for ax, name in zip(axes[0], ["before", "rocks pasted in", "new mask"], strict=True):
        ax.set_title(name, fontsize="medium")
    class_legend(fig)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return fig


def share_chart(tables: dict[str, pd.DataFrame], *, title: str = "") -> Figure:
    """Pixel share of each class (log scale): the "before" column of the first table,
    then each table's "after".

    Args:
        tables: label -> a `balance.share_table`, e.g. {"balanced BigRock": ..., "CutMix": ...}.
        title: the figure's title.
    """
    first = next(iter(tables.values()))
    columns = {
        "cleaned (before)": first["before"],
        **{label: table["after"] for label, table in tables.items()},
    }
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / len(columns)
    positions = np.arange(len(first))
    for k, (label, shares) in enumerate(columns.items()):
        bars = ax.bar(
            positions + (k - (len(columns) - 1) / 2) * width, shares * 100, width, label=label
        )
        ax.bar_label(
            bars,
            labels=[f"{100 * s:.2f}" if s < 0.1 else f"{100 * s:.0f}" for s in shares],
            fontsize="x-small",
        )
    ax.set_xticks(positions, first.index)
    ax.set_yscale("log")
    ax.set_ylabel("share of all pixels (%, log scale)")
    ax.set_title(title)
    ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    fig.tight_layout()
    return fig


def throughput_chart(measurements: Sequence[Measurement], training_rate: float) -> Figure:
    """Horizontal bars of images/s, with the training rate and five times it marked.

    Args:
        measurements: from `marslib.bench.augment.benchmark`.
        training_rate: images/s a model trains at, for comparison.
    """
    fig, ax = plt.subplots(figsize=(9, 0.5 * len(measurements) + 1.8))
    names = [m.what for m in measurements][::-1]
    values = [m.value for m in measurements][::-1]
    bars = ax.barh(names, values, color="#0173b2")
    ax.bar_label(bars, labels=[f"{v:,.0f}" for v in values], fontsize="small", padding=3)
    ax.axvline(
        training_rate, color="#de8f05", ls="--", label=f"training: {training_rate:,.0f} images/s"
    )
    ax.axvline(5 * training_rate, color="#029e73", ls=":", label="5x training")
    ax.set_xscale("log")
    ax.set_xlabel("images per second (log scale)")
    fig.legend(fontsize="small", loc="lower center", ncol=2, frameon=False)
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    return fig
