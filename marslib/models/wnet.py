"""W-Net (after Xia and Kulis, 2017): two U-Nets in sequence, the second refining the first.

The first U-Net segments the image ("coarse" probabilities); the second sees the image and
those probabilities side by side and produces the final ("refined") segmentation, so it can
learn to correct the first one's typical mistakes. With deep supervision the model returns
both outputs, so a loss can be put on each and the first U-Net is trained to segment on its own.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
from keras import layers

from marslib.models.blocks import classifier, image_input, positive_int
from marslib.models.unet import unet_features


def build_wnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    base_filters: int,
    depth: int,
    deep_supervision: bool = False,
) -> keras.Model:
    """W-Net: images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Args:
        input_shape: (H, W, 1), H and W multiples of 2**depth.
        num_classes: output channels.
        base_filters: first-stage filters of each U-Net.
        depth: poolings of each U-Net.
        deep_supervision: return ``[coarse, refined]`` (two outputs named "coarse" and "refined")
            instead of the refined probabilities alone.
    """
    base_filters, depth = positive_int(base_filters, "base_filters"), positive_int(depth, "depth")
    inputs = image_input(
        input_shape, 2**depth, architecture="wnet", why=f"each U-Net pools {depth} times"
    )
    coarse = classifier(
        unet_features(inputs, base_filters, depth, name="coarse_"), num_classes, name="coarse"
    )
    x = layers.Concatenate(name="refine_input")([inputs, coarse])
    refined = classifier(
        unet_features(x, base_filters, depth, name="refine_"), num_classes, name="refined"
    )
    return keras.Model(inputs, [coarse, refined] if deep_supervision else refined, name="wnet")
