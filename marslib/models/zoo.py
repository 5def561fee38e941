"""Building the zoo's models by name; `marslib.models.catalog` lists them,
their sizes and options."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import keras

from marslib.core import checks
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.models.attention_psp import build_attention_psp
from marslib.models.catalog import SIZES, check_name, options
from marslib.models.deeplabv3 import build_deeplabv3
from marslib.models.pspnet import build_pspnet
from marslib.models.unet import build_unet
from marslib.models.wnet import build_wnet

BUILDERS: dict[str, Callable[..., keras.Model]] = {
    "unet": build_unet,
    "deeplabv3": build_deeplabv3,
    "wnet": build_wnet,
    "pspnet": build_pspnet,
    "attention_psp": build_attention_psp,
}


def build(
    name: str,
    input_shape: Sequence[int] = (*IMAGE_SHAPE, 1),
    num_classes: int = NUM_CLASSES,
    size: str = "quick",
    **overrides: Any,
) -> keras.Model:
    """Build the model `name` at `size`, with `overrides` replacing the size's options.

    Args:
        name: one of `catalog.names()`.
        input_shape: (H, W, 1); H and W must suit the architecture (multiples of 2**depth, ...).
        num_classes: number of output classes (at least 2).
        size: "quick" or "full", a key of ``catalog.SIZES[name]``.
        overrides: any of `catalog.options(name)`, e.g. ``base_filters=16`` or ``se=True``.

    Returns:
        An uncompiled `keras.Model`: float32 images (B, H, W, 1) -> float32 probabilities
        (B, H, W, num_classes).

    Raises:
        ValueError: for an unknown name, size or option, or a shape or number the model cannot take.
    """
    check_name(name)
    if size not in SIZES[name]:
        raise ValueError(f"unknown size {size!r} for {name}; known sizes: {list(SIZES[name])}")
    unknown = sorted(set(overrides) - set(options(name)))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {name}; it accepts {options(name)}")
    checks.integer("num_classes", num_classes, low=2)
    return BUILDERS[name](input_shape, num_classes, **{**SIZES[name][size], **overrides})
