"""Looking inside models: what one output pixel sees, where attention gates look, models side by side.

    field = inspection.receptive_field(model, row=32, column=64)      # float32 (64, 128), sums to 1
    alpha = inspection.gate_coefficients(model, images, "dec1_gate")  # float32 (N, 64, 128) in [0, 1]
    inspection.attention_gallery(model, images, masks, indices=[3, 7])  # every gate's weights, per image
    coarse = inspection.layer_model(model, "coarse")                  # a W-Net's first U-Net alone
    shown = inspection.showcase_indices(masks)                        # the same telling images in every chapter
    inspection.comparison_gallery(images, masks, {"U-Net": a, "PSP": b}, indices=shown)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import keras
import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf
from matplotlib.figure import Figure

from marslib.classes import BACKGROUND, BIG_ROCK, colorize
from marslib.evaluate import per_image_miou
from marslib.plots import class_legend


def receptive_field(model: keras.Model, *, row: int, column: int, image: np.ndarray | None = None) -> np.ndarray:
    """How much each input pixel moves one output pixel: |d output / d input|, normalised to sum 1.

    The gradient of the sum of the log-probabilities at (row, column) with respect to every input
    pixel, in inference mode. Where it is 0 the pixel cannot influence that output at all (it
    lies outside the theoretical receptive field); where it is large it matters most (the
    "effective" receptive field).

    Args:
        model: images float32 (1, H, W, 1) -> probabilities (1, H, W, C).
        row, column: the output pixel.
        image: uint8 (H, W) to differentiate at (None: seeded random noise; a uniform image can
            leave an untrained network's ReLUs off everywhere, and its gradient all zero).

    Returns:
        float32 (H, W), non-negative, summing to 1 (all zeros if the output ignores the input).
    """
    height, width = model.input_shape[1:3]
    if not (0 <= row < height and 0 <= column < width):
        raise ValueError(f"pixel ({row}, {column}) lies outside the model's {height}x{width} output")
    if image is None:
        image = np.random.default_rng(0).integers(0, 256, (height, width), dtype=np.uint8)
    if np.asarray(image).shape != (height, width):
        raise ValueError(f"image must be ({height}, {width}), got {np.asarray(image).shape}")
    inputs = tf.Variable(np.asarray(image, dtype=np.float32)[None, :, :, None] / 255.0)
    with tf.GradientTape() as tape:
        probabilities = model(inputs, training=False)
        # log-probabilities, not probabilities: those sum to 1 over the classes, so their gradients cancel
        score = tf.reduce_sum(tf.math.log(probabilities[0, row, column] + 1e-7))
    magnitude = np.abs(tape.gradient(score, inputs).numpy()[0, :, :, 0])
    total = magnitude.sum()
    return (magnitude / total if total > 0 else magnitude).astype(np.float32)


def layer_model(model: keras.Model, layer: str) -> keras.Model:
    """A model from the same input to the output of `layer` (e.g. "coarse" of a W-Net).

    Raises:
        ValueError: when `model` has no layer of that name.
    """
    names = [candidate.name for candidate in model.layers]
    if layer not in names:
        raise ValueError(f"{model.name} has no layer {layer!r}")
    return keras.Model(model.input, model.get_layer(layer).output, name=f"{model.name}_{layer}")


def gate_coefficients(model: keras.Model, images: np.ndarray, gate: str, *, batch_size: int = 64) -> np.ndarray:
    """The weights alpha an attention gate puts on its skip connection's pixels.

    Args:
        model: a model holding a `marslib.models.blocks.AttentionGate` named `gate`.
        images: uint8 (N, H, W).
        gate: the gate's layer name, e.g. "dec1_gate" (the finest skip).

    Returns:
        float32 (N, h, w) in [0, 1] at the gate's skip resolution (h = H for "dec1_gate").
    """
    from marslib.data import to_model_input
    from marslib.models.blocks import AttentionGate

    layer = model.get_layer(gate) if gate in [candidate.name for candidate in model.layers] else None
    if not isinstance(layer, AttentionGate):
        gates = [candidate.name for candidate in model.layers if isinstance(candidate, AttentionGate)]
        raise ValueError(f"{model.name} has no attention gate {gate!r}; its gates: {gates}")
    inputs = keras.Model(model.input, layer.input).predict(to_model_input(images), batch_size=batch_size, verbose=0)
    alpha = layer.coefficients(*inputs)
    return keras.ops.convert_to_numpy(alpha)[..., 0].astype(np.float32)


def attention_gallery(model: keras.Model, images: np.ndarray, masks: np.ndarray, *, indices: Sequence[int]) -> Figure:
    """One row per image: the image, its truth, then the weights of every attention gate, coarsest first.

    Args:
        model: a model with `marslib.models.blocks.AttentionGate` layers.
        images: uint8 (N, H, W); masks: true labels, integer (N, H, W).
        indices: which images to show.
    """
    from marslib.models.blocks import AttentionGate

    chosen = list(indices)
    gates = sorted((layer.name for layer in model.layers if isinstance(layer, AttentionGate)), reverse=True)
    if not gates or not chosen:
        raise ValueError(f"need at least one image index and a model with attention gates; {model.name} has gates {gates}")
    weights = {gate: gate_coefficients(model, images[chosen], gate) for gate in gates}
    columns = 2 + len(gates)
    figure, axes = plt.subplots(len(chosen), columns, figsize=(2.5 * columns, 1.45 * len(chosen) + 0.6), squeeze=False)
    for row, (position, index) in zip(axes, enumerate(chosen)):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"image {index}", fontsize=9)
        row[1].imshow(colorize(masks[index]), interpolation="nearest")
        row[1].set_title("truth", fontsize=9)
        for ax, gate in zip(row[2:], gates):
            shown = ax.imshow(weights[gate][position], cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
            ax.set_title(f"{gate}: α, mean {weights[gate][position].mean():.2f}", fontsize=9)
        for ax in row:
            ax.axis("off")
    figure.tight_layout(rect=(0, 0, 0.93, 1))
    figure.colorbar(shown, ax=axes[:, 2:].ravel().tolist(), fraction=0.02, pad=0.01, label="α")
    return figure


def showcase_indices(masks: np.ndarray, *, mixed: int = 3, big_rock: int = 1) -> list[int]:
    """A fixed choice of telling images, so that every chapter shows its model on the same ones.

    Args:
        masks: true labels, integer (N, H, W).
        mixed: how many images holding at least three terrain classes (the first ones in order).
        big_rock: how many images holding Big Rock (the first ones not already chosen).

    Returns:
        Indices into `masks`, the mixed scenes first; fewer when the set has fewer such images.
    """
    masks = np.asarray(masks)
    if masks.ndim != 3:
        raise ValueError(f"masks must be a stack (N, H, W), got shape {masks.shape}")
    present = np.stack([(masks == label).any(axis=(1, 2)) for label in range(BIG_ROCK + 1)], axis=1)
    terrain_classes = present[:, BACKGROUND + 1 :].sum(axis=1)
    chosen = [int(i) for i in np.flatnonzero(terrain_classes >= 3)[:mixed]]
    rocks = [int(i) for i in np.flatnonzero(present[:, BIG_ROCK]) if i not in chosen]
    return chosen + rocks[:big_rock]


def comparison_gallery(
    images: np.ndarray,
    masks: np.ndarray,
    predictions: Mapping[str, np.ndarray],
    *,
    indices: Sequence[int],
) -> Figure:
    """One row per image: the image, the truth, then each model's prediction (titled with its mIoU there).

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
            raise ValueError(f"predictions of {name!r} have shape {np.shape(labels)}, the masks {np.shape(masks)}")
    columns = 2 + len(predictions)
    figure, axes = plt.subplots(len(chosen), columns, figsize=(2.5 * columns, 1.45 * len(chosen) + 0.5), squeeze=False)
    for row, index in zip(axes, chosen):
        row[0].imshow(images[index], cmap="gray", vmin=0, vmax=255)
        row[0].set_title(f"image {index}", fontsize=9)
        row[1].imshow(colorize(masks[index]), interpolation="nearest")
        row[1].set_title("truth", fontsize=9)
        for ax, (name, labels) in zip(row[2:], predictions.items()):
            miou = per_image_miou(masks[index : index + 1], labels[index : index + 1])[0]
            ax.imshow(colorize(labels[index]), interpolation="nearest")
            ax.set_title(f"{name} (mIoU {miou:.2f})", fontsize=9)
        for ax in row:
            ax.axis("off")
    class_legend(figure)
    figure.tight_layout(rect=(0, 0.35 / figure.get_figheight(), 1, 1))
    return figure
