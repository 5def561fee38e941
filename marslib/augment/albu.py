"""The same and richer transforms with Albumentations (Buslaev et al., 2020).

An ``A.Compose`` pipeline transforms an image and its mask together: geometric transforms move
both (the mask by nearest neighbour, uncovered pixels labelled Background), pixel-level ones
(brightness, contrast) change the image only. Named pipelines let a chapter compare them:

=====================  =========================================================================
name                   what it does
=====================  =========================================================================
``hflip``, ``vflip``   mirror left-right / top-bottom
``shift``              move by up to 4 rows and 8 columns (whole pixels)
``rotate``             turn by up to 20 degrees either way
``zoom``               scale by 0.8 to 1.25 about the centre
``brightness``         brightness and contrast each changed by up to 25%
``elastic``            a smooth random warp
``safe``               hflip + shift: changes nothing a level camera could not see
``safe_vflip``         safe + vflip: the upside-down copies too
``rich``               safe_vflip + rotate + zoom + brightness: what a photo-classification
                       recipe would add
=====================  =========================================================================

On the real data, teams found rotation, zoom and brightness changes often hurt: a rover's
camera sits level at a fixed height, so tilted horizons, changed rock sizes and shifted grey
levels describe scenes the test set never shows. A vertical flip puts the horizon at the bottom,
which no test picture shows either: measured on the book's converged U-Net runs (the report's data
and loss, one seed each), leaving it out scored 0.653 validation mIoU against 0.610 with it.
Hence ``safe``, without it, for training by default.
"""

from __future__ import annotations

from collections.abc import Callable

import albumentations as A
import cv2
import numpy as np

from marslib.augment.hand import MAX_SHIFT, check_pair
from marslib.core.classes import BACKGROUND

_BORDER = {"border_mode": cv2.BORDER_CONSTANT, "fill": 0, "fill_mask": BACKGROUND}

TRANSFORMS: dict[str, Callable[[float], A.BasicTransform]] = {
    "hflip": lambda p: A.HorizontalFlip(p=p),
    "vflip": lambda p: A.VerticalFlip(p=p),
    "shift": lambda p: A.Affine(
        translate_px={"y": (-MAX_SHIFT[0], MAX_SHIFT[0]), "x": (-MAX_SHIFT[1], MAX_SHIFT[1])},
        **_BORDER,
        p=p,
    ),
    "rotate": lambda p: A.Affine(rotate=(-20, 20), **_BORDER, p=p),
    "zoom": lambda p: A.Affine(scale=(0.8, 1.25), **_BORDER, p=p),
    "brightness": lambda p: A.RandomBrightnessContrast(
        brightness_limit=0.25, contrast_limit=0.25, p=p
    ),
    "elastic": lambda p: A.ElasticTransform(alpha=30, sigma=6, **_BORDER, p=p),
}

PIPELINES: dict[str, tuple[str, ...]] = {
    **{name: (name,) for name in TRANSFORMS},
    "safe": ("hflip", "shift"),
    "safe_vflip": ("hflip", "vflip", "shift"),
    "rich": ("hflip", "vflip", "shift", "rotate", "zoom", "brightness"),
}


def names() -> list[str]:
    """The known pipeline names: single transforms first, then "safe", "safe_vflip" and "rich"."""
    return list(PIPELINES)


def pipeline(name: str, *, p: float = 0.5, seed: int | None = 0) -> A.Compose:
    """The named pipeline as an ``A.Compose`` over ``image`` and ``mask``.

    Args:
        name: a name from `names()`.
        p: probability of applying each transform (1.0 to always apply it, e.g. for a gallery).
        seed: seed of the pipeline's random generator; the same seed gives the same sequence
            of results. None draws a fresh seed.

    Returns:
        a callable
        ``pipeline(image=uint8 (H, W), mask=uint8 (H, W)) -> {"image": ..., "mask": ...}``.
    """
    if name not in PIPELINES:
        raise ValueError(f"unknown pipeline {name!r}; known pipelines: {names()}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    return A.Compose([TRANSFORMS[step](p) for step in PIPELINES[name]], seed=seed)


def apply(
    name: str, images: np.ndarray, masks: np.ndarray, *, p: float = 0.5, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Run the named pipeline over a stack, one image after the other.

    Args:
        name: a name from `names()`.
        images: uint8 array (N, H, W).
        masks: integer array (N, H, W), values 0..4.
        p: probability of applying each transform.
        seed: seed of the pipeline; the same seed and stack give the same result.

    Returns:
        new images uint8 (N, H, W) and masks (N, H, W) of the input mask dtype.
    """
    images, masks = check_pair(images, masks)
    if images.ndim != 3:
        raise ValueError(f"images must be a stack (N, H, W), got shape {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (grey levels 0..255), got {images.dtype}")
    transform = pipeline(name, p=p, seed=seed)
    out_images, out_masks = np.empty_like(images), np.empty_like(masks)
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        result = transform(image=image, mask=mask)
        out_images[i], out_masks[i] = result["image"], result["mask"]
    return out_images, out_masks
