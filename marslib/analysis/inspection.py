"""Looking inside models: what one output pixel sees, where attention gates look.

    field = inspection.receptive_field(model, row=32, column=64)      # float32 (64, 128), sums to 1
    # float32 (N, 64, 128) in [0, 1]
    alpha = inspection.gate_coefficients(model, images, "dec1_gate")
    coarse = inspection.layer_model(model, "coarse")                  # a W-Net's first U-Net alone
    # the same telling images in every chapter
    shown = inspection.showcase_indices(masks)

The pictures of these are in `marslib.figures` (`attention.attention_gallery`,
`results.comparison_gallery`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from marslib.core.classes import BACKGROUND, BIG_ROCK


def receptive_field(
    model: keras.Model, *, row: int, column: int, image: np.ndarray | None = None
) -> np.ndarray:
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
        raise ValueError(
            f"pixel ({row}, {column}) lies outside the model's {height}x{width} output"
        )
    if image is None:
        image = np.random.default_rng(0).integers(0, 256, (height, width), dtype=np.uint8)
    if np.asarray(image).shape != (height, width):
        raise ValueError(f"image must be ({height}, {width}), got {np.asarray(image).shape}")
    inputs = tf.Variable(np.asarray(image, dtype=np.float32)[None, :, :, None] / 255.0)
    with tf.GradientTape() as tape:
        probabilities = model(inputs, training=False)
        # log-probabilities, not probabilities: those sum to 1 over the classes,
        # so their gradients cancel
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


def gate_coefficients(
    model: keras.Model, images: np.ndarray, gate: str, *, batch_size: int = 64
) -> np.ndarray:
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

    layer = (
        model.get_layer(gate) if gate in [candidate.name for candidate in model.layers] else None
    )
    if not isinstance(layer, AttentionGate):
        gates = [
            candidate.name for candidate in model.layers if isinstance(candidate, AttentionGate)
        ]
        raise ValueError(f"{model.name} has no attention gate {gate!r}; its gates: {gates}")
    inputs = keras.Model(model.input, layer.input).predict(
        to_model_input(images), batch_size=batch_size, verbose=0
    )
    alpha = layer.coefficients(*inputs)
    return keras.ops.convert_to_numpy(alpha)[..., 0].astype(np.float32)


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
