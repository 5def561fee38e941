"""Where attention gates look: every gate's coefficients beside the image and its truth."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from marslib.analysis.inspection import gate_coefficients
from marslib.core.classes import colorize


def attention_gallery(
    model: keras.Model, images: np.ndarray, masks: np.ndarray, *, indices: Sequence[int]
) -> Figure:
    """One row per image: the image, its truth, then the weights of every attention gate,
    coarsest first.

    Args:
        model: a model with `marslib.models.blocks.AttentionGate` layers.
        images: uint8 (N, H, W); masks: true labels, integer (N, H, W).
        indices: which images to show.
    """
    from marslib.models.blocks import AttentionGate

    chosen = list(indices)
    gates = sorted(
        (layer.name for layer in model.layers if isinstance(layer, AttentionGate)), reverse=True
    )
    if not gates or not chosen:
        raise ValueError(
            "need at least one image index and a model with attention gates; "
            f"{model.name} has gates {gates}"
        )
    weights = {gate: gate_coefficients(model, images[chosen], gate) for gate in gates}
    columns = 2 + len(gates)
    figure, axes = plt.subplots(
        len(chosen), columns, figsize=(2.5 * columns, 1.45 * len(chosen) + 0.6), squeeze=False
    )
    for row, (position, index) in zip(axes, enumerate(chosen)):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"image {index}", fontsize=9)
        row[1].imshow(colorize(masks[index]), interpolation="nearest")
        row[1].set_title("truth", fontsize=9)
        for ax, gate in zip(row[2:], gates):
            shown = ax.imshow(
                weights[gate][position], cmap="viridis", vmin=0, vmax=1, interpolation="nearest"
            )
            ax.set_title(f"{gate}: α, mean {weights[gate][position].mean():.2f}", fontsize=9)
        for ax in row:
            ax.axis("off")
    figure.tight_layout(rect=(0, 0, 0.93, 1))
    figure.colorbar(shown, ax=axes[:, 2:].ravel().tolist(), fraction=0.02, pad=0.01, label="α")
    return figure
