"""The model zoo: the report's five architectures, built from scratch with Keras 3 layers.

    from marslib import models
    model = models.build("pspnet", size=profile.model_size)      # (B, 64, 128, 1) -> (B, 64, 128, 5)

Every model maps float32 images (B, H, W, 1) in [0, 1] to float32 softmax probabilities
(B, H, W, num_classes), whatever the dtype policy, and saves to and reloads from ``.keras``
with ``safe_mode`` on. `SIZES` gives each model a "quick" size (trains in about a minute on a
CPU) and a "full" size (report scale, for a GPU); keyword options override the size's values.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from typing import Any

import keras

from marslib.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.models.attention_psp import build_attention_psp
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

SIZES: dict[str, dict[str, dict[str, Any]]] = {
    "unet": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 24, "depth": 4}},
    "deeplabv3": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 32, "depth": 3}},
    "wnet": {"quick": {"base_filters": 4, "depth": 4}, "full": {"base_filters": 16, "depth": 4}},
    "pspnet": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 32, "depth": 3}},
    "attention_psp": {"quick": {"base_filters": 8, "depth": 3}, "full": {"base_filters": 32, "depth": 3}},
}


def names() -> list[str]:
    """Names of the models `build` knows, in the report's order."""
    return list(BUILDERS)


def options(name: str) -> list[str]:
    """Keyword options the model `name` accepts (its size values and architecture switches)."""
    _check_name(name)
    parameters = inspect.signature(BUILDERS[name]).parameters.values()
    return [p.name for p in parameters if p.kind is inspect.Parameter.KEYWORD_ONLY]


def build(
    name: str,
    input_shape: Sequence[int] = (*IMAGE_SHAPE, 1),
    num_classes: int = NUM_CLASSES,
    size: str = "quick",
    **overrides: Any,
) -> keras.Model:
    """Build the model `name` at `size`, with `overrides` replacing the size's options.

    Args:
        name: one of `names()`.
        input_shape: (H, W, 1); H and W must suit the architecture (multiples of 2**depth, ...).
        num_classes: number of output classes (at least 2).
        size: "quick" or "full", a key of ``SIZES[name]``.
        overrides: any of `options(name)`, e.g. ``base_filters=16`` or ``se=True``.

    Returns:
        An uncompiled `keras.Model`: float32 images (B, H, W, 1) -> float32 probabilities (B, H, W, num_classes).

    Raises:
        ValueError: for an unknown name, size or option, or a shape or number the model cannot take.
    """
    _check_name(name)
    if size not in SIZES[name]:
        raise ValueError(f"unknown size {size!r} for {name}; known sizes: {list(SIZES[name])}")
    unknown = sorted(set(overrides) - set(options(name)))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown} for {name}; it accepts {options(name)}")
    if not isinstance(num_classes, int) or isinstance(num_classes, bool) or num_classes < 2:
        raise ValueError(f"num_classes must be an integer of at least 2, got {num_classes!r}")
    return BUILDERS[name](input_shape, num_classes, **{**SIZES[name][size], **overrides})


def _check_name(name: str) -> None:
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}; known models: {names()}")
