"""Attention + PSP, the report's best model as the book builds it: PSPNet with attention gates.

The report says only that it combined its PSPNet with "the attention gate" in the decoder; a gate
on every skip connection, and the U-Net decoder itself, are the book's design.

The encoder and the pyramid pooling bottleneck are PSPNet's. In the decoder, each skip
connection passes an attention gate (Oktay et al., 2018) before it is concatenated: the
encoder features are the gate's key and value, the decoder features one level deeper its
query. The gate computes a weight in [0, 1] per pixel and damps the encoder features the
decoder finds irrelevant, so fine detail is copied over only where it helps.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from marslib.models.blocks import classifier, decoder, encoder, positive_int
from marslib.models.pspnet import psp_bottleneck, psp_input


def build_attention_psp(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    base_filters: int,
    depth: int,
    bins: Sequence[int] = (1, 2, 4, 8),
) -> keras.Model:
    """Attention + PSP: images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Args:
        input_shape: (H, W, 1); H / 2**depth and W / 2**depth divisible by every bin.
        num_classes: output channels.
        base_filters: filters of the first encoder stage, doubled at each pooling.
        depth: poolings of the encoder.
        bins: grid sizes of the pyramid's paths (one path each).
    """
    base_filters, depth = positive_int(base_filters, "base_filters"), positive_int(depth, "depth")
    inputs = psp_input(input_shape, depth, bins, architecture="attention_psp")
    x, skips = encoder(inputs, base_filters, depth, name="enc")
    x = psp_bottleneck(x, base_filters * 2**depth, bins)
    x = decoder(x, skips, base_filters, name="dec", attention=True)
    return keras.Model(inputs, classifier(x, num_classes), name="attention_psp")
