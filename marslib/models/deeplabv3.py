"""DeepLabV3 (Chen et al., 2017): an atrous backbone and Atrous Spatial Pyramid Pooling.

The backbone pools `depth` times (output stride 2**depth), then stops pooling: an atrous
stage of dilated convolutions grows the receptive field without shrinking the map further.
ASPP looks at those features at several scales at once (parallel dilated convolutions and a
global-average "image pooling" branch that adds scene-level context), merges them in one
convolutional block, and the class scores are upsampled bilinearly to the input size. There
is no decoder and no skip connection: masks are as sharp as a 2**depth-times-coarser map allows.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras

from marslib.models.blocks import aspp, classifier, conv_bn_act, encoder, image_input, positive_int


def build_deeplabv3(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    base_filters: int,
    depth: int,
    atrous_rates: Sequence[int] = (2, 4, 6),
) -> keras.Model:
    """DeepLabV3: images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Args:
        input_shape: (H, W, 1), H and W multiples of 2**depth.
        num_classes: output channels.
        base_filters: filters of the first backbone stage, doubled at each pooling; the atrous
            stage and ASPP use base_filters * 2**depth.
        depth: poolings of the backbone (output stride 2**depth).
        atrous_rates: dilation rates of ASPP's 3x3 branches (the paper's 6, 12, 18 suit a
            33x33 map; the 8x16 map of a 64x128 image at output stride 8 calls for smaller ones).
    """
    base_filters, depth = positive_int(base_filters, "base_filters"), positive_int(depth, "depth")
    rates = [positive_int(rate, "every atrous rate") for rate in atrous_rates]
    inputs = image_input(
        input_shape, 2**depth, architecture="deeplabv3", why=f"the backbone pools {depth} times"
    )
    x, _ = encoder(inputs, base_filters, depth, name="backbone")
    filters = base_filters * 2**depth
    x = conv_bn_act(x, filters, dilation_rate=2, name="atrous_a")
    x = conv_bn_act(x, filters, dilation_rate=2, name="atrous_b")
    x = aspp(x, filters, rates)
    return keras.Model(inputs, classifier(x, num_classes, upsample=2**depth), name="deeplabv3")
