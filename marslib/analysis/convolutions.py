"""What a network of convolutions allows that a dense classifier does not, measured on small
models: the same weights on images of any size, and two ways to double a feature map.

    table = at_sizes("unet", [(64, 128), (128, 256)])    # one set of weights, two image sizes
    upsampling_parameters(32, 16)                        # weights of the two ways to upsample
    transposed, resized = checkerboard()                 # each of them on a constant input

A transposed convolution whose kernel is not a multiple of its stride overlaps unevenly: on a
constant input it writes a checkerboard (Odena et al., 2016, "Deconvolution and checkerboard
artifacts"). An upsampling followed by a convolution does not.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np
import pandas as pd

from marslib import models
from marslib.core.classes import NUM_CLASSES


def at_sizes(
    name: str = "unet",
    shapes: Sequence[tuple[int, int]] = ((64, 128), (128, 256)),
    *,
    size: str = "quick",
    seed: int = 0,
) -> pd.DataFrame:
    """Run one untrained model's weights on random images of each (height, width) in `shapes`.

    The model `name` is built at `size` for the first shape; the same model built for each other
    shape receives its weights unchanged (`set_weights`): a network without dense layers has no
    weight that depends on the image's size.

    Returns:
        One row per shape, indexed "HxW": the output shape of one image, the model's
        parameters, the largest distance of a pixel's probabilities' sum from 1, and the
        parameters a classifier's head (Flatten, then Dense to the classes) would need on the
        features the model's last convolution gives at that size.
    """
    if not shapes or len(set(map(tuple, shapes))) < len(shapes):
        raise ValueError(f"give at least one (height, width), each once; got {list(shapes)}")
    rng = np.random.default_rng(seed)
    first = None
    rows = {}
    for height, width in shapes:
        model = models.build(name, input_shape=(height, width, 1), size=size)
        if first is None:
            first = model
        else:
            model.set_weights(first.get_weights())
        images = rng.random((1, height, width, 1), dtype=np.float32)
        probabilities = np.asarray(model(images, training=False))
        features = model.get_layer("classifier_logits").input.shape[1:]
        rows[f"{height}x{width}"] = {
            "output shape": tuple(probabilities.shape[1:]),
            "parameters": model.count_params(),
            "softmax sum - 1 (max)": round(float(np.abs(probabilities.sum(axis=-1) - 1).max()), 6),
            "Flatten + Dense head": int(np.prod(features)) * NUM_CLASSES + NUM_CLASSES,
        }
    return pd.DataFrame(rows).T


def upsampling_parameters(
    channels_in: int, channels_out: int, *, kernel_size: int = 3
) -> dict[str, int]:
    """The weights of three ways to double a (H, W, channels_in) map into channels_out
    channels, counted on the built Keras layers: a transposed convolution with stride 2 (kernel
    `kernel_size`, and kernel 2), and a 2x upsampling followed by a convolution."""
    inputs = keras.Input((8, 8, channels_in))
    ways = {
        f"Conv2DTranspose, kernel {kernel_size}, stride 2": [
            keras.layers.Conv2DTranspose(channels_out, kernel_size, strides=2, padding="same")
        ],
        "Conv2DTranspose, kernel 2, stride 2": [
            keras.layers.Conv2DTranspose(channels_out, 2, strides=2, padding="same")
        ],
        f"UpSampling2D, then Conv2D kernel {kernel_size}": [
            keras.layers.UpSampling2D(2),
            keras.layers.Conv2D(channels_out, kernel_size, padding="same"),
        ],
    }
    counts = {}
    for label, layers in ways.items():
        x = inputs
        for layer in layers:
            x = layer(x)
        counts[label] = sum(layer.count_params() for layer in layers)
    return counts


def checkerboard(
    kernel_size: int = 3, strides: int = 2, size: int = 8
) -> tuple[np.ndarray, np.ndarray]:
    """What a transposed convolution and an upsampling followed by a convolution make of a
    constant (size, size) input of ones, every weight 1 and no bias.

    Returns:
        (transposed, resized): two (size * strides, size * strides) arrays. Each output pixel of
        the transposed convolution sums the input pixels whose kernel covers it, which varies
        from pixel to pixel when `kernel_size` is not a multiple of `strides` (1, 2 and 4 for
        kernel 3 and stride 2); after the upsampling every inner pixel sums the same
        kernel_size**2 ones.
    """
    ones = np.ones((1, size, size, 1), dtype=np.float32)
    transposed = keras.layers.Conv2DTranspose(
        1, kernel_size, strides=strides, padding="same", use_bias=False, kernel_initializer="ones"
    )(ones)
    resized = keras.layers.Conv2D(
        1, kernel_size, padding="same", use_bias=False, kernel_initializer="ones"
    )(keras.layers.UpSampling2D(strides)(ones))
    return np.asarray(transposed)[0, ..., 0], np.asarray(resized)[0, ..., 0]
