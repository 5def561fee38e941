"""PSPNet (after Zhao et al., 2017) on a U-Net: a pyramid pooling bottleneck.

A U-Net-like encoder shrinks the image to a small bottleneck map. There, the features split
into one path per pyramid level: each average-pools the map to a coarser grid (1x1 is the
whole scene, 8x8 a neighbourhood), applies two convolutions with activation, and is resized
back. Concatenated with the unpooled features, they give every pixel a view of its
surroundings at several scales, which suits masks made of wide regions of one class. The
U-Net decoder with skip connections then restores the resolution. The report describes the
encoder ("very similar to the one described in the U-Net architecture") and the bottleneck; the
decoder with skip connections is the book's design.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import keras

from marslib.models.blocks import (
    KerasTensor,
    classifier,
    conv_bn_act,
    decoder,
    encoder,
    image_input,
    positive_int,
    pyramid_pooling,
)


def psp_bottleneck(x: KerasTensor, filters: int, bins: Sequence[int]) -> KerasTensor:
    """Pyramid pooling over `bins` (each path with filters // len(bins) channels),
    merged by a 3x3 `conv_bn_act`.

    Returns:
        Tensor (B, h, w, filters), same height and width as `x`.
    """
    x = pyramid_pooling(x, max(1, filters // len(bins)), bins)
    return conv_bn_act(x, filters, name="ppm_merge")


def psp_input(
    input_shape: Sequence[int], depth: int, bins: Sequence[int], *, architecture: str
) -> KerasTensor:
    """The input of a PSP model: H and W must allow `depth` poolings and then every bin."""
    bins = [positive_int(b, "every bin") for b in bins]
    if not bins:
        raise ValueError(f"{architecture}: bins must hold at least one grid size, got {bins}")
    return image_input(
        input_shape,
        2**depth * math.lcm(*bins),
        architecture=architecture,
        why=f"{depth} poolings, then pyramid bins {bins} must divide the bottleneck",
    )


def build_pspnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    base_filters: int,
    depth: int,
    bins: Sequence[int] = (1, 2, 4, 8),
) -> keras.Model:
    """PSPNet: images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Args:
        input_shape: (H, W, 1); H / 2**depth and W / 2**depth divisible by every bin.
        num_classes: output channels.
        base_filters: filters of the first encoder stage, doubled at each pooling.
        depth: poolings of the encoder.
        bins: grid sizes of the pyramid's paths (one path each).
    """
    base_filters, depth = positive_int(base_filters, "base_filters"), positive_int(depth, "depth")
    inputs = psp_input(input_shape, depth, bins, architecture="pspnet")
    x, skips = encoder(inputs, base_filters, depth, name="enc")
    x = psp_bottleneck(x, base_filters * 2**depth, bins)
    x = decoder(x, skips, base_filters, name="dec")
    return keras.Model(inputs, classifier(x, num_classes), name="pspnet")
