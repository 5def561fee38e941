"""More Big Rock: crops around the rocks, CutMix, and the report's balanced dataset variants.

Big Rock covers about 0.13% of the pixels of the real training set. Two ways to raise that share:

- **Rock crops** (what the report did): take the images with at least `MIN_BIGROCK_PIXELS` Big
  Rock pixels, find each rock (a connected Big Rock region), cut a window around it with the
  pictures' 1:2 aspect and some random margin and position, enlarge the window to 64x128 (image
  bilinear, mask nearest) and mirror it at random. Each new sample is mostly rock and its
  surroundings. New samples are made until the whole set reaches `TARGET_SHARE` of Big Rock pixels.
- **CutMix** (Yun et al., 2019; what the best teams did): paste the rectangle around a rock, with
  a few pixels of its surroundings, into another image, moved only sideways: on ground seen from
  a level camera the row sets the distance, so the rock keeps a plausible size.
- **Oversampling** (what the second-placed team did besides CutMix): repeat every image that holds
  Big Rock, unchanged, `OVERSAMPLE_TIMES` times in all (`oversampled_positions`), or as many
  extra times, in turn, as a given number of extra images asks (`repeated_positions`).

All use only the images they are given, so the variant builders, which are given the cleaned
training images at `indices`, never see a validation image. The variants (see `marslib.datasets`):

- ``balanced_bigrock``: the cleaned images, then the rock crops;
- ``augmented_bigrock_level``: balanced BigRock, then `AUGMENT_COPIES` copies of it augmented by
  the Albumentations pipeline `AUGMENT_PIPELINE` ("safe": mirrored left-right and shifted, the
  horizon kept level): the book's augmented BigRock, in the report's recipe;
- ``augmented_bigrock_vflip``: the same with `VFLIP_PIPELINE` ("safe_vflip": also flipped
  upside down), the standard augmentation the book first read the report's as; measured worse (see
  `marslib.augment.albu`);
- ``cutmix_bigrock_level`` and ``oversampled_bigrock_level``: augmented BigRock with its rock crops
  replaced by as many CutMix images, or by as many extra copies of the images holding Big Rock,
  the Albumentations copies made the same way (`with_augmented_copies`): the three sets have the
  same size and differ only in how their Big Rock images were made;
- ``cutmix_bigrock``: the cleaned images, then CutMix images up to `TARGET_SHARE` (chapter 5's);
- ``oversampled_bigrock``: the cleaned images, then `OVERSAMPLE_TIMES` - 1 extra copies of each
  image holding Big Rock. These two have no Albumentations copies.

The module-level constants are the defaults the variant builders use.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from scipy import ndimage

from marslib.augment import albu, hand
from marslib.core.classes import BIG_ROCK, CLASS_NAMES
from marslib.data import cleaning, stats

if TYPE_CHECKING:
    from marslib.data import MarsData

TARGET_SHARE = 0.03  # Big Rock share of all pixels after balancing (real data before: 0.13%)
MIN_BIGROCK_PIXELS = 50  # an image is a source if it holds at least this many Big Rock pixels
MIN_ROCK_PIXELS = 10  # smaller Big Rock regions are specks, not rocks
MARGIN_RANGE = (
    0.2,
    0.75,
)  # a crop window reaches this many rock sizes beyond the rock on each side
MIN_WINDOW_HEIGHT = 16  # so a crop is enlarged at most 4 times
PATCH_MARGIN = 3  # pixels of surroundings pasted with a rock in CutMix
MAX_SIDEWAYS = 16  # columns a pasted rock may move sideways
PATCHES_PER_IMAGE = 3  # rocks pasted into each CutMix image (fewer where no free place is found)
PLACEMENT_TRIES = 10  # random rocks and places tried for each patch before giving it up
AUGMENT_PIPELINE = "safe"  # Albumentations pipeline of augmented_bigrock_level (the book's)
VFLIP_PIPELINE = "safe_vflip"  # the same with vertical flips: augmented_bigrock_vflip
AUGMENT_COPIES = 1  # augmented copies of balanced BigRock added by that variant
MAX_NEW_PER_IMAGE = (
    10  # at most this many new samples per given image, or the target is unreachable
)
OVERSAMPLE_TIMES = (
    15  # an image holding Big Rock appears this many times in the oversampled variant
)


@dataclass(frozen=True)
class Box:
    """A rectangle of a picture: rows top..top+height-1, columns left..left+width-1."""

    top: int
    left: int
    height: int
    width: int

    @property
    def slices(self) -> tuple[slice, slice]:
        """Index a (H, W) array with ``array[box.slices]``."""
        return slice(self.top, self.top + self.height), slice(self.left, self.left + self.width)


@dataclass(frozen=True)
class RockCrops:
    """New samples cut around rocks.

    Attributes:
        images: uint8 (K, H, W) new images.
        masks: uint8 (K, H, W) their masks.
        sources: int64 (K,) position, in the stack given, of the image each sample was cut from.
        windows: the K windows cut (before enlarging).
        flipped: bool (K,) whether the sample was mirrored.
    """

    images: np.ndarray
    masks: np.ndarray
    sources: np.ndarray
    windows: tuple[Box, ...]
    flipped: np.ndarray


@dataclass(frozen=True)
class Patch:
    """A rock pasted by CutMix: `box` of image `source` went to (top, left) of the new image."""

    source: int
    box: Box
    top: int
    left: int


@dataclass(frozen=True)
class CutMixImages:
    """New images with rocks pasted in.

    Attributes:
        images: uint8 (K, H, W) new images.
        masks: uint8 (K, H, W) their masks.
        targets: int64 (K,) position, in the stack given, of the image each one was pasted into.
        patches: for each new image, the rocks pasted into it.
    """

    images: np.ndarray
    masks: np.ndarray
    targets: np.ndarray
    patches: tuple[tuple[Patch, ...], ...]


# ---------------------------------------------------------------- counting


def bigrock_share(masks: np.ndarray) -> float:
    """Share of all pixels labelled Big Rock.

    Args:
        masks: integer array (N, H, W), values 0..4.
    """
    return float(stats.pixel_frequencies(masks)[BIG_ROCK])


def share_table(before: np.ndarray, after: np.ndarray) -> pd.DataFrame:
    """Pixel share of each class before and after balancing.

    Args:
        before, after: integer masks (N, H, W) and (N', H, W), values 0..4.

    Returns:
        DataFrame indexed by class name with columns "before" and "after" (shares in [0, 1])
        and "images before", "images after" (the N and N' repeated, for the caption).
    """
    table = pd.DataFrame(
        {"before": stats.pixel_frequencies(before), "after": stats.pixel_frequencies(after)},
        index=pd.Index(CLASS_NAMES, name="class"),
    )
    table["images before"], table["images after"] = len(before), len(after)
    return table


def source_indices(masks: np.ndarray, min_pixels: int = MIN_BIGROCK_PIXELS) -> np.ndarray:
    """Positions of the masks holding at least `min_pixels` Big Rock pixels.

    Args:
        masks: integer array (N, H, W), values 0..4.
        min_pixels: the least number of Big Rock pixels, at least 1.

    Returns:
        int64 array, sorted.
    """
    masks = stats.check_masks(masks)
    if min_pixels < 1:
        raise ValueError(f"min_pixels must be at least 1, got {min_pixels}")
    return np.flatnonzero((masks == BIG_ROCK).sum(axis=(1, 2)) >= min_pixels).astype(np.int64)


def rock_boxes(mask: np.ndarray, min_pixels: int = MIN_ROCK_PIXELS) -> list[Box]:
    """The bounding boxes of the rocks of one mask: its connected Big Rock regions (8-neighbours).

    Args:
        mask: integer array (H, W), values 0..4.
        min_pixels: smaller regions are left out.

    Returns:
        one Box per rock, in scan order of the regions' first pixels.
    """
    mask = np.asarray(mask)
    if mask.ndim != 2:
        raise ValueError(f"mask must be (H, W), got shape {mask.shape}")
    regions, _ = ndimage.label(mask == BIG_ROCK, structure=np.ones((3, 3), dtype=bool))
    sizes = np.bincount(regions.ravel())
    return [
        Box(rows.start, cols.start, rows.stop - rows.start, cols.stop - cols.start)
        for label, (rows, cols) in enumerate(ndimage.find_objects(regions), start=1)
        if sizes[label] >= min_pixels
    ]


def _rocks(masks: np.ndarray, min_pixels: int) -> list[tuple[int, Box]]:
    """(source position, rock box) for every rock of every source image; ValueError if none."""
    rocks = [
        (int(s), box) for s in source_indices(masks, min_pixels) for box in rock_boxes(masks[s])
    ]
    if not rocks:
        raise ValueError(
            f"no image holds a Big Rock region of {MIN_ROCK_PIXELS}+ pixels among those with "
            f"{min_pixels}+ Big Rock pixels: nothing to balance with "
            "(lower min_pixels or give more images)"
        )
    return rocks


def _check_target(target_share: float) -> None:
    if not 0.0 < target_share < 1.0:
        raise ValueError(f"target_share must lie strictly between 0 and 1, got {target_share}")


def _check_count(count: int) -> None:
    """ValueError unless `count` is an integer of at least 0 (a number of new images)."""
    if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 0:
        raise ValueError(f"count must be an integer of at least 0, got {count!r}")


def _check_stack(images: np.ndarray, masks: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    images, masks = hand.check_pair(images, masks)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"images must be a non-empty stack (N, H, W), got shape {images.shape}")
    if images.dtype != np.uint8 or masks.dtype != np.uint8:
        raise ValueError(f"images and masks must be uint8, got {images.dtype} and {masks.dtype}")
    return images, masks


# ---------------------------------------------------------------- rock crops


def crop_window(rock: Box, shape: tuple[int, int], rng: np.random.Generator) -> Box:
    """A window around `rock` with the picture's aspect, a random margin and a random position.

    The window reaches `MARGIN_RANGE` rock sizes beyond the rock on each side, is at least
    `MIN_WINDOW_HEIGHT` rows high, holds the whole rock where it can and lies inside the picture.

    Args:
        rock: the rock's bounding box.
        shape: (H, W) of the picture.
        rng: the generator of the random margin and position.
    """
    full_h, full_w = shape
    margin = rng.uniform(*MARGIN_RANGE)
    height = max(
        MIN_WINDOW_HEIGHT,
        rock.height * (1 + 2 * margin),
        rock.width * (1 + 2 * margin) * full_h / full_w,
    )
    height = min(full_h, math.ceil(height))
    width = min(full_w, round(height * full_w / full_h))

    def start(rock_start: int, rock_size: int, size: int, full: int) -> int:
        low, high = max(0, rock_start + rock_size - size), min(rock_start, full - size)
        if low > high:  # the rock is larger than the window: centre on it
            return int(np.clip(rock_start + (rock_size - size) // 2, 0, full - size))
        return int(rng.integers(low, high + 1))

    return Box(
        start(rock.top, rock.height, height, full_h),
        start(rock.left, rock.width, width, full_w),
        height,
        width,
    )


def rock_crops(
    images: np.ndarray,
    masks: np.ndarray,
    *,
    target_share: float = TARGET_SHARE,
    min_pixels: int = MIN_BIGROCK_PIXELS,
    seed: int = 0,
) -> RockCrops:
    """New samples cut around rocks until images + samples hold `target_share` of Big Rock pixels.

    Each sample: pick a rock uniformly among all rocks of the source images, cut `crop_window`
    around it, enlarge to (H, W) with `hand.crop_resize`, mirror left-right with probability 1/2.

    Args:
        images: uint8 (N, H, W).
        masks: uint8 (N, H, W), values 0..4.
        target_share: Big Rock share of all pixels to reach, in (0, 1). If the images already
            reach it, no sample is made.
        min_pixels: Big Rock pixels an image needs to be a source.
        seed: seed of every random choice.

    Returns:
        the new samples (not the given images) and where they come from. The share of
        images + samples lies in [target_share, target_share + 1 / (N + K)).
    """
    images, masks = _check_stack(images, masks)
    _check_target(target_share)
    rocks = _rocks(masks, min_pixels)
    rng = np.random.default_rng(seed)
    shape = images.shape[1:]
    rock_pixels, all_pixels = int((masks == BIG_ROCK).sum()), masks.size
    new_images, new_masks, sources, windows, flipped = [], [], [], [], []
    while rock_pixels < target_share * all_pixels:
        if len(new_images) >= MAX_NEW_PER_IMAGE * len(images):
            raise ValueError(
                f"Big Rock share still {rock_pixels / all_pixels:.2%} after {len(new_images)} "
                f"crops: target {target_share:.2%} is out of reach with these images"
            )
        source, rock = rocks[rng.integers(len(rocks))]
        window = crop_window(rock, shape, rng)
        image, mask = hand.crop_resize(
            images[source],
            masks[source],
            window.top,
            window.left,
            window.height,
            window.width,
            size=shape,
        )
        flip = bool(rng.random() < 0.5)
        if flip:
            image, mask = hand.hflip(image, mask)
        new_images.append(image)
        new_masks.append(mask)
        sources.append(source)
        windows.append(window)
        flipped.append(flip)
        rock_pixels += int((mask == BIG_ROCK).sum())
        all_pixels += mask.size
    return RockCrops(
        images=np.array(new_images, dtype=np.uint8).reshape(-1, *shape),
        masks=np.array(new_masks, dtype=np.uint8).reshape(-1, *shape),
        sources=np.array(sources, dtype=np.int64),
        windows=tuple(windows),
        flipped=np.array(flipped, dtype=bool),
    )


# ---------------------------------------------------------------- CutMix


def _grown(box: Box, margin: int, shape: tuple[int, int]) -> Box:
    """`box` grown by `margin` pixels on each side, clipped to the picture."""
    top, left = max(0, box.top - margin), max(0, box.left - margin)
    bottom = min(shape[0], box.top + box.height + margin)
    right = min(shape[1], box.left + box.width + margin)
    return Box(top, left, bottom - top, right - left)


def _overlap(a: Box, b: Box) -> bool:
    return (
        a.top < b.top + b.height
        and b.top < a.top + a.height
        and a.left < b.left + b.width
        and b.left < a.left + a.width
    )


def _free_patch(
    rocks: list[tuple[int, Box]],
    pasted: list[Patch],
    shape: tuple[int, int],
    rng: np.random.Generator,
) -> Patch | None:
    """A random rock with its margin, moved sideways to a place no earlier patch covers (None if
    `PLACEMENT_TRIES` draws find none)."""
    for _ in range(PLACEMENT_TRIES):
        source, rock = rocks[rng.integers(len(rocks))]
        box = _grown(rock, PATCH_MARGIN, shape)
        left = int(
            np.clip(
                box.left + rng.integers(-MAX_SIDEWAYS, MAX_SIDEWAYS + 1), 0, shape[1] - box.width
            )
        )
        placed = Box(box.top, left, box.height, box.width)
        if not any(_overlap(placed, Box(p.top, p.left, p.box.height, p.box.width)) for p in pasted):
            return Patch(source, box, box.top, left)
    return None


def cutmix(
    images: np.ndarray,
    masks: np.ndarray,
    *,
    target_share: float = TARGET_SHARE,
    min_pixels: int = MIN_BIGROCK_PIXELS,
    patches_per_image: int = PATCHES_PER_IMAGE,
    count: int | None = None,
    seed: int = 0,
) -> CutMixImages:
    """New images with rocks pasted in, until images + new ones hold `target_share` of Big Rock
    (or, given `count`, exactly `count` new images).

    Each new image: a copy of a random image of the stack, into which up to `patches_per_image`
    rocks (each a random rock of the source images, with `PATCH_MARGIN` pixels around it) are
    pasted, image and mask alike, at the same rows and moved sideways by up to `MAX_SIDEWAYS`
    columns, never over a patch pasted before.

    Args:
        images: uint8 (N, H, W).
        masks: uint8 (N, H, W), values 0..4.
        target_share: Big Rock share of all pixels to reach, in (0, 1) (without `count`).
        min_pixels: Big Rock pixels an image needs to be a source of rocks.
        patches_per_image: the most rocks pasted into each new image, at least 1.
        count: the number of new images to make, at least 0, whatever Big Rock share they
            reach; None: stop at `target_share`.
        seed: seed of every random choice.

    Returns:
        the new images (not the given ones) and what was pasted where. Without `count`, the
        share of images + new images lies in [target_share, target_share + 1 / (N + K)).
    """
    images, masks = _check_stack(images, masks)
    _check_target(target_share)
    if patches_per_image < 1:
        raise ValueError(f"patches_per_image must be at least 1, got {patches_per_image}")
    if count is not None:
        _check_count(count)
    rocks = _rocks(masks, min_pixels)
    rng = np.random.default_rng(seed)
    shape = images.shape[1:]
    rock_pixels, all_pixels = int((masks == BIG_ROCK).sum()), masks.size
    new_images, new_masks, targets, patches = [], [], [], []
    while len(new_images) < count if count is not None else rock_pixels < target_share * all_pixels:
        if count is None and len(new_images) >= MAX_NEW_PER_IMAGE * len(images):
            raise ValueError(
                f"Big Rock share still {rock_pixels / all_pixels:.2%} after {len(new_images)} "
                f"CutMix images: target {target_share:.2%} is out of reach with these images"
            )
        target = int(rng.integers(len(images)))
        image, mask = images[target].copy(), masks[target].copy()
        pasted: list[Patch] = []
        for _ in range(patches_per_image):
            patch = _free_patch(rocks, pasted, shape, rng)
            if patch is None:
                continue
            destination = Box(patch.top, patch.left, patch.box.height, patch.box.width).slices
            image[destination] = images[patch.source][patch.box.slices]
            mask[destination] = masks[patch.source][patch.box.slices]
            pasted.append(patch)
        new_images.append(image)
        new_masks.append(mask)
        targets.append(target)
        patches.append(tuple(pasted))
        rock_pixels += int((mask == BIG_ROCK).sum())
        all_pixels += mask.size
    return CutMixImages(
        images=np.array(new_images, dtype=np.uint8).reshape(-1, *shape),
        masks=np.array(new_masks, dtype=np.uint8).reshape(-1, *shape),
        targets=np.array(targets, dtype=np.int64),
        patches=tuple(patches),
    )


# ---------------------------------------------------------------- oversampling


def oversampled_positions(
    masks: np.ndarray, *, times: int = OVERSAMPLE_TIMES, min_pixels: int = MIN_BIGROCK_PIXELS
) -> np.ndarray:
    """Positions of the extra copies that make each Big Rock image appear `times` times in all.

    Args:
        masks: integer array (N, H, W), values 0..4.
        times: how often an image with at least `min_pixels` Big Rock pixels appears once the
            copies are added, at least 1 (1: no copy).
        min_pixels: Big Rock pixels an image needs to be repeated.

    Returns:
        int64 array (S * (times - 1),): the S source positions (`source_indices`), each repeated
        times - 1 times, sorted.
    """
    if isinstance(times, bool) or not isinstance(times, int) or times < 1:
        raise ValueError(f"times must be an integer of at least 1, got {times!r}")
    return np.repeat(source_indices(masks, min_pixels), times - 1)


def repeated_positions(
    masks: np.ndarray, count: int, *, min_pixels: int = MIN_BIGROCK_PIXELS
) -> np.ndarray:
    """Positions of `count` extra copies of the images holding Big Rock, taken in turn.

    The S images with at least `min_pixels` Big Rock pixels (`source_indices`) are copied
    one after the other, and again from the first, until there are `count` copies: each image
    gets count // S or count // S + 1 of them (the first count % S images one more).

    Args:
        masks: integer array (N, H, W), values 0..4.
        count: the number of copies, at least 0.
        min_pixels: Big Rock pixels an image needs to be copied.

    Returns:
        int64 array (count,): source positions, sorted.
    """
    _check_count(count)
    sources = source_indices(masks, min_pixels)
    if count and not len(sources):
        raise ValueError(
            f"no image holds {min_pixels}+ Big Rock pixels: nothing to copy "
            "(lower min_pixels or give more images)"
        )
    return np.sort(np.resize(sources, count))


# ---------------------------------------------------------------- the dataset variants


def balanced_bigrock_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The cleaned images at `indices`, then rock crops made from them
    up to `TARGET_SHARE` Big Rock.

    Returns:
        images uint8 (K' + C, 64, 128) and masks uint8 (K' + C, 64, 128):
        the K' cleaned images first.
    """
    images, masks = cleaning.cleaned_variant(data, indices)
    crops = _balancing_crops(images, masks, seed=seed)
    return np.concatenate([images, crops.images]), np.concatenate([masks, crops.masks])


def _balancing_crops(images: np.ndarray, masks: np.ndarray, *, seed: int) -> RockCrops:
    """The rock crops balanced BigRock adds to the cleaned `images` (uint8 (K', 64, 128))."""
    return rock_crops(
        images, masks, target_share=TARGET_SHARE, min_pixels=MIN_BIGROCK_PIXELS, seed=seed
    )


def _cleaned_and_crop_count(
    data: MarsData, indices: np.ndarray, *, seed: int
) -> tuple[np.ndarray, np.ndarray, int]:
    """The cleaned images and masks at `indices` (uint8 (K', 64, 128)) and the number of rock
    crops balanced BigRock adds to them: the extra images of a base of balanced BigRock's size."""
    images, masks = cleaning.cleaned_variant(data, indices)
    return images, masks, len(_balancing_crops(images, masks, seed=seed).images)


def with_augmented_copies(
    images: np.ndarray, masks: np.ndarray, *, seed: int = 0, pipeline: str = AUGMENT_PIPELINE
) -> tuple[np.ndarray, np.ndarray]:
    """A stack, then `AUGMENT_COPIES` copies of it through an Albumentations pipeline.

    Copy c is `albu.apply(pipeline, images, masks, seed=s)` with s drawn from
    ``np.random.default_rng([seed, c])``.

    Args:
        images: uint8 (B, 64, 128), the base set.
        masks: uint8 (B, 64, 128), values 0..4.
        seed: the seed the copies' seeds are drawn from.
        pipeline: the `marslib.augment.albu` pipeline of the copies.

    Returns:
        images uint8 (B * (1 + AUGMENT_COPIES), 64, 128) and masks of the same shape: the base
        first, then the copies in order.
    """
    copies = [
        albu.apply(
            pipeline,
            images,
            masks,
            seed=int(np.random.default_rng([seed, copy]).integers(2**31)),
        )
        for copy in range(AUGMENT_COPIES)
    ]
    return (
        np.concatenate([images, *(copy_images for copy_images, _ in copies)]),
        np.concatenate([masks, *(copy_masks for _, copy_masks in copies)]),
    )


def augmented_bigrock_level_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0, pipeline: str = AUGMENT_PIPELINE
) -> tuple[np.ndarray, np.ndarray]:
    """Balanced BigRock, then `AUGMENT_COPIES` copies of it through an Albumentations pipeline.

    Args:
        data, indices, seed: as for every variant builder (`marslib.datasets`).
        pipeline: the `marslib.augment.albu` pipeline of the copies.

    Returns:
        images uint8 (B * (1 + AUGMENT_COPIES), 64, 128) and masks of the same shape, where B is
        the size of balanced BigRock; the balanced images come first.
    """
    images, masks = balanced_bigrock_variant(data, indices, seed=seed)
    return with_augmented_copies(images, masks, seed=seed, pipeline=pipeline)


def augmented_bigrock_vflip_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """`augmented_bigrock_level_variant` with `VFLIP_PIPELINE`: the copies also flipped upside
    down at random."""
    return augmented_bigrock_level_variant(data, indices, seed=seed, pipeline=VFLIP_PIPELINE)


def cutmix_bigrock_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The cleaned images at `indices`, then CutMix images made from them
    up to `TARGET_SHARE` Big Rock.

    Returns:
        images uint8 (K' + C, 64, 128) and masks uint8 (K' + C, 64, 128):
        the K' cleaned images first.
    """
    images, masks = cleaning.cleaned_variant(data, indices)
    mixed = cutmix(
        images, masks, target_share=TARGET_SHARE, min_pixels=MIN_BIGROCK_PIXELS, seed=seed
    )
    return np.concatenate([images, mixed.images]), np.concatenate([masks, mixed.masks])


def oversampled_bigrock_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The cleaned images at `indices`, then copies of those holding Big Rock
    (`OVERSAMPLE_TIMES` in all).

    Nothing is drawn at random, so `seed` (part of every builder's signature) changes nothing.

    Returns:
        images uint8 (K' + S * (OVERSAMPLE_TIMES - 1), 64, 128) and masks of the same shape: the K'
        cleaned images first, then the copies of the S images with
        `MIN_BIGROCK_PIXELS` Big Rock pixels.
    """
    images, masks = cleaning.cleaned_variant(data, indices)
    extra = oversampled_positions(masks, times=OVERSAMPLE_TIMES, min_pixels=MIN_BIGROCK_PIXELS)
    return np.concatenate([images, images[extra]]), np.concatenate([masks, masks[extra]])


def cutmix_bigrock_level_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Augmented BigRock with CutMix images instead of its rock crops, as many of them.

    The cleaned images at `indices`, then C CutMix images made from them (C: the number of rock
    crops balanced BigRock adds to them, so this base has balanced BigRock's size), then the
    Albumentations copies of that base (`with_augmented_copies`, as augmented BigRock).

    Returns:
        images uint8 ((K' + C) * (1 + AUGMENT_COPIES), 64, 128) and masks of the same shape:
        the K' cleaned images first, then the C CutMix images, then the copies.
    """
    images, masks, count = _cleaned_and_crop_count(data, indices, seed=seed)
    mixed = cutmix(images, masks, min_pixels=MIN_BIGROCK_PIXELS, count=count, seed=seed)
    return with_augmented_copies(
        np.concatenate([images, mixed.images]), np.concatenate([masks, mixed.masks]), seed=seed
    )


def oversampled_bigrock_level_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Augmented BigRock with copies of the images holding Big Rock instead of its rock crops,
    as many of them.

    The cleaned images at `indices`, then C extra copies of the S images among them with
    `MIN_BIGROCK_PIXELS` Big Rock pixels, taken in turn (`repeated_positions`; C: the number of
    rock crops balanced BigRock adds, so this base has balanced BigRock's size), then the
    Albumentations copies of that base (`with_augmented_copies`, as augmented BigRock).

    Returns:
        images uint8 ((K' + C) * (1 + AUGMENT_COPIES), 64, 128) and masks of the same shape:
        the K' cleaned images first, then the C copies, then the Albumentations copies.
    """
    images, masks, count = _cleaned_and_crop_count(data, indices, seed=seed)
    extra = repeated_positions(masks, count, min_pixels=MIN_BIGROCK_PIXELS)
    return with_augmented_copies(
        np.concatenate([images, images[extra]]), np.concatenate([masks, masks[extra]]), seed=seed
    )
