"""Baseline U-Net (Ronneberger et al., 2015), optionally with squeeze-and-excitation.

The encoder halves the resolution `depth` times while doubling the filters; the decoder
upsamples back, concatenating at each step the encoder features of the same resolution
(the skip connections that give the U its shape and the masks their sharp edges).
With ``se=True`` every convolution stack ends in a `SqueezeExcitation` block (Hu et al.,
2018), the ingredient of the best public U-Nets on this competition.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from marslib.models.blocks import (
    KerasTensor,
    classifier,
    conv_stack,
    decoder,
    encoder,
    image_input,
    positive_int,
)


def unet_features(
    x: KerasTensor, base_filters: int, depth: int, *, name: str, se_ratio: int | None = None
) -> KerasTensor:
    """Encoder, bottleneck and decoder of a U-Net:
    (B, H, W, C) -> features (B, H, W, base_filters)."""
    x, skips = encoder(x, base_filters, depth, name=f"{name}enc", se_ratio=se_ratio)
    x = conv_stack(x, base_filters * 2**depth, name=f"{name}bottleneck", se_ratio=se_ratio)
    return decoder(x, skips, base_filters, name=f"{name}dec", se_ratio=se_ratio)


def build_unet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    base_filters: int,
    depth: int,
    se: bool = False,
    se_ratio: int = 4,
) -> keras.Model:
    """U-Net: images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Args:
        input_shape: (H, W, 1), H and W multiples of 2**depth.
        num_classes: output channels.
        base_filters: filters of the first stage; stage i has base_filters * 2**i,
            the bottleneck base_filters * 2**depth.
        depth: number of poolings.
        se: add a squeeze-and-excitation block after every convolution stack.
        se_ratio: channel reduction inside the squeeze-and-excitation blocks.
    """
    base_filters, depth = positive_int(base_filters, "base_filters"), positive_int(depth, "depth")
    inputs = image_input(
        input_shape, 2**depth, architecture="unet", why=f"{depth} poolings halve them"
    )
    x = unet_features(
        inputs,
        base_filters,
        depth,
        name="",
        se_ratio=positive_int(se_ratio, "se_ratio") if se else None,
    )
    return keras.Model(inputs, classifier(x, num_classes), name="unet_se" if se else "unet")
