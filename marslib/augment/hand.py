"""Geometric transforms written by hand, applied to an image and its mask together.

Every transform takes an image and its label mask of the same shape, either one pair (H, W)
or a stack (N, H, W), and returns the transformed pair with the same dtypes. The rules that
keep a mask honest:

- the image and the mask go through exactly the same geometric change, so pixel (i, j) of
  the new mask still labels pixel (i, j) of the new image;
- masks are only ever resampled by nearest neighbour, so no label is invented: a pixel
  between Soil (1) and Sand (3) never becomes Bedrock (2);
- pixels that come from outside the picture are labelled Background (0): nobody labelled them,
  and the competition metric ignores background.

Quarter turns and the 64x128 shape. Turning a 64x128 picture by 90 degrees gives a 128x64
one, which no longer fits the network. `rotate90` turns the pair, cuts the largest centred
window with the original aspect ratio (32x64 here) and enlarges it back to 64x128, so a
quarter turn of a non-square picture also zooms in by 2 and loses three quarters of it. Half
turns (`rotate180`) keep the shape exactly, and are the rotation to use on these images.

The random versions at the bottom (`RANDOM_TRANSFORMS`, `augment`) draw their parameters from
a NumPy generator seeded per image, so a seed always gives the same new images.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from marslib.core.classes import BACKGROUND, NUM_CLASSES

# ---------------------------------------------------------------- checks


def check_pair(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate an image and its mask: same shape (H, W) or (N, H, W), integer labels in 0..4.

    Returns:
        the two arrays as NumPy arrays, unchanged.
    """
    image, mask = np.asarray(image), np.asarray(mask)
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (H, W) or (N, H, W), got shape {image.shape}")
    if image.shape != mask.shape:
        raise ValueError(
            f"image and mask must have the same shape, got {image.shape} and {mask.shape}"
        )
    if not np.issubdtype(mask.dtype, np.integer):
        raise ValueError(f"mask must hold integer class labels, got dtype {mask.dtype}")
    if mask.size and (mask.min() < 0 or mask.max() >= NUM_CLASSES):
        raise ValueError(
            f"mask values must lie in 0..{NUM_CLASSES - 1}, got {mask.min()}..{mask.max()}"
        )
    return image, mask


# ---------------------------------------------------------------- resampling


def _nearest_sources(out_len: int, in_len: int) -> np.ndarray:
    """For each output pixel, the input pixel whose centre is nearest (pixel centres aligned)."""
    scale = in_len / out_len
    return np.minimum(np.floor((np.arange(out_len) + 0.5) * scale).astype(np.intp), in_len - 1)


def _linear_sources(out_len: int, in_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For each output pixel, the two input pixels around it and the weight of the second."""
    x = (np.arange(out_len) + 0.5) * (in_len / out_len) - 0.5
    x = np.clip(x, 0, in_len - 1)
    low = np.floor(x).astype(np.intp)
    high = np.minimum(low + 1, in_len - 1)
    return low, high, x - low


def resize_nearest(array: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize the last two axes by nearest neighbour (the only safe way for masks).

    Args:
        array: any array (..., H, W).
        size: (height, width) of the result.

    Returns:
        array (..., height, width) of the same dtype, every value taken from `array`.
    """
    rows = _nearest_sources(size[0], array.shape[-2])
    cols = _nearest_sources(size[1], array.shape[-1])
    return array[..., rows[:, None], cols[None, :]]


def resize_bilinear(image: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Resize the last two axes by bilinear interpolation (for images; meant for enlarging).

    Pixel centres are aligned as in OpenCV's ``INTER_LINEAR``: output pixel i looks at input
    position ``(i + 0.5) * in / out - 0.5``.

    Args:
        image: array (..., H, W), integer or float.
        size: (height, width) of the result.

    Returns:
        array (..., height, width) of the same dtype
        (integers rounded and clipped to the dtype's range).
    """
    top, bottom, wy = _linear_sources(size[0], image.shape[-2])
    left, right, wx = _linear_sources(size[1], image.shape[-1])
    values = image.astype(np.float64)
    rows = values[..., top, :] * (1 - wy[:, None]) + values[..., bottom, :] * wy[:, None]
    out = rows[..., left] * (1 - wx) + rows[..., right] * wx
    if np.issubdtype(image.dtype, np.integer):
        info = np.iinfo(image.dtype)
        out = np.clip(np.rint(out), info.min, info.max)
    return out.astype(image.dtype)


# ---------------------------------------------------------------- the transforms


def hflip(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror left to right. Shapes (H, W) or (N, H, W); dtypes kept."""
    image, mask = check_pair(image, mask)
    return image[..., ::-1].copy(), mask[..., ::-1].copy()


def vflip(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mirror top to bottom (puts the horizon at the bottom).
    Shapes (H, W) or (N, H, W); dtypes kept."""
    image, mask = check_pair(image, mask)
    return image[..., ::-1, :].copy(), mask[..., ::-1, :].copy()


def rotate180(image: np.ndarray, mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Turn by half a turn: both flips at once. Shapes (H, W) or (N, H, W) kept; dtypes kept."""
    image, mask = check_pair(image, mask)
    return image[..., ::-1, ::-1].copy(), mask[..., ::-1, ::-1].copy()


def rotate90(image: np.ndarray, mask: np.ndarray, k: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Turn by k quarter turns counter-clockwise, keeping the shape.

    A square picture just turns. A non-square one (H, W) becomes (W, H) when turned by an odd
    number of quarters; then the largest centred window with aspect H:W is cut out and enlarged
    back to (H, W): bilinear for the image, nearest neighbour for the mask. For 64x128 that
    window is 32x64, so the turn zooms in by 2.

    Args:
        image: array (H, W) or (N, H, W).
        mask: integer array of the same shape, values 0..4.
        k: number of quarter turns (any integer; negative turns clockwise).

    Returns:
        image and mask of the input shape and dtypes.
    """
    image, mask = check_pair(image, mask)
    height, width = image.shape[-2:]
    image, mask = np.rot90(image, k, axes=(-2, -1)), np.rot90(mask, k, axes=(-2, -1))
    if image.shape[-2:] == (height, width):
        return image.copy(), mask.copy()
    turned_h, turned_w = image.shape[-2:]  # (width, height)
    window_w = min(turned_w, round(turned_h * width / height))
    window_h = round(window_w * height / width)
    top, left = (turned_h - window_h) // 2, (turned_w - window_w) // 2
    return crop_resize(image, mask, top, left, window_h, window_w, size=(height, width))


def shift(
    image: np.ndarray,
    mask: np.ndarray,
    dy: int,
    dx: int,
    *,
    mode: str = "constant",
    fill: int | float = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Move the picture by whole pixels: dy down, dx right (negative: up, left).

    Args:
        image: array (H, W) or (N, H, W).
        mask: integer array of the same shape, values 0..4.
        dy, dx: the shift in pixels, each smaller than the image's size along its axis.
        mode: "constant": the uncovered strip gets image value `fill` and label Background;
            "reflect": it mirrors the picture's edge (image and mask alike).
        fill: image value of the uncovered strip in "constant" mode.

    Returns:
        image and mask of the input shape and dtypes.
    """
    image, mask = check_pair(image, mask)
    height, width = image.shape[-2:]
    if abs(dy) >= height or abs(dx) >= width:
        raise ValueError(
            f"shift ({dy}, {dx}) must be smaller than the image size ({height}, {width})"
        )
    if mode not in ("constant", "reflect"):
        raise ValueError(f"mode must be 'constant' or 'reflect', got {mode!r}")
    pad = [(0, 0)] * (image.ndim - 2) + [(max(dy, 0), max(-dy, 0)), (max(dx, 0), max(-dx, 0))]
    if mode == "constant":
        image = np.pad(image, pad, mode="constant", constant_values=fill)
        mask = np.pad(mask, pad, mode="constant", constant_values=BACKGROUND)
    else:
        image, mask = np.pad(image, pad, mode="reflect"), np.pad(mask, pad, mode="reflect")
    top, left = max(-dy, 0), max(-dx, 0)
    window = (..., slice(top, top + height), slice(left, left + width))
    return image[window].copy(), mask[window].copy()


def crop_resize(
    image: np.ndarray,
    mask: np.ndarray,
    top: int,
    left: int,
    height: int,
    width: int,
    *,
    size: tuple[int, int] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Cut the window [top : top + height, left : left + width] and enlarge it to `size`.

    Args:
        image: array (H, W) or (N, H, W).
        mask: integer array of the same shape, values 0..4.
        top, left, height, width: the window; it must lie inside the picture.
        size: (height, width) of the result; None keeps the input's (H, W): a zoom.

    Returns:
        image (bilinear) and mask (nearest neighbour) of shape (..., *size), dtypes kept.
    """
    image, mask = check_pair(image, mask)
    full_h, full_w = image.shape[-2:]
    if (
        height < 1
        or width < 1
        or top < 0
        or left < 0
        or top + height > full_h
        or left + width > full_w
    ):
        raise ValueError(
            f"window top={top} left={left} height={height} width={width} must lie inside the "
            f"{full_h}x{full_w} picture"
        )
    size = (full_h, full_w) if size is None else size
    window = (..., slice(top, top + height), slice(left, left + width))
    return resize_bilinear(image[window], size), resize_nearest(mask[window], size)


# ---------------------------------------------------------------- random versions

RandomTransform = Callable[
    [np.ndarray, np.ndarray, np.random.Generator], tuple[np.ndarray, np.ndarray]
]

MAX_SHIFT = (4, 8)  # at most 4 rows and 8 columns: about 6% of each side
MIN_ZOOM_SIDE = 0.75  # a random crop keeps at least 75% of each side


def random_shift(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Shift by up to `MAX_SHIFT` pixels in each direction; Background fills the uncovered strip."""
    dy = int(rng.integers(-MAX_SHIFT[0], MAX_SHIFT[0] + 1))
    dx = int(rng.integers(-MAX_SHIFT[1], MAX_SHIFT[1] + 1))
    return shift(image, mask, dy, dx)


def random_crop_resize(
    image: np.ndarray, mask: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Zoom in: a random window with the picture's aspect, at least `MIN_ZOOM_SIDE` of each side,
    enlarged back."""
    full_h, full_w = np.shape(image)[-2:]
    side = rng.uniform(MIN_ZOOM_SIDE, 1.0)
    height, width = max(1, round(full_h * side)), max(1, round(full_w * side))
    top = int(rng.integers(0, full_h - height + 1))
    left = int(rng.integers(0, full_w - width + 1))
    return crop_resize(image, mask, top, left, height, width)


RANDOM_TRANSFORMS: dict[str, RandomTransform] = {
    "hflip": lambda image, mask, rng: hflip(image, mask),
    "vflip": lambda image, mask, rng: vflip(image, mask),
    "rotate180": lambda image, mask, rng: rotate180(image, mask),
    "rotate90": lambda image, mask, rng: rotate90(image, mask, k=int(rng.choice([1, 3]))),
    "shift": random_shift,
    "crop_resize": random_crop_resize,
}

SAFE = ("hflip", "shift")  # as `marslib.augment.albu`'s "safe": the horizon stays level


def augment(
    images: np.ndarray,
    masks: np.ndarray,
    names: Sequence[str] = SAFE,
    *,
    p: float = 0.5,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Augment a stack: each named transform is applied to each image with probability `p`.

    Image i draws from its own generator ``np.random.default_rng([seed, i])``, so a seed gives
    the same result whatever else is in the stack.

    Args:
        images: array (N, H, W).
        masks: integer array (N, H, W), values 0..4.
        names: keys of `RANDOM_TRANSFORMS`, applied in this order.
        p: probability of applying each transform, in [0, 1].
        seed: seed of every random choice.

    Returns:
        new images and masks (N, H, W), dtypes kept.
    """
    images, masks = check_pair(images, masks)
    if images.ndim != 3:
        raise ValueError(f"images must be a stack (N, H, W), got shape {images.shape}")
    unknown = [name for name in names if name not in RANDOM_TRANSFORMS]
    if unknown:
        raise ValueError(f"unknown transform(s) {unknown}; known: {list(RANDOM_TRANSFORMS)}")
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"p must lie in [0, 1], got {p}")
    out_images, out_masks = np.empty_like(images), np.empty_like(masks)
    for i, (image, mask) in enumerate(zip(images, masks, strict=True)):
        rng = np.random.default_rng([seed, i])
        for name in names:
            if rng.random() < p:
                image, mask = RANDOM_TRANSFORMS[name](image, mask, rng)
        out_images[i], out_masks[i] = image, mask
    return out_images, out_masks
