"""Augmentation: joint transforms keep image and mask aligned,
Big Rock balancing, variants, tf.data."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path

import albumentations as A
import cv2
import numpy as np
import pytest
from scipy import ndimage

from marslib import datasets
from marslib.augment import albu, balance, hand
from marslib.core.classes import BIG_ROCK

# Alignment pattern: labels in 8x8 blocks and image = LEVELS[mask], so after any joint transform
# the image must still equal LEVELS[mask] (exactly for pixel moves, away from edges for resampling).
# LEVELS[0] = 0: pixels uncovered by a shift get grey 0 and label 0 and still fit the pattern.
LEVELS = np.array([0, 60, 110, 160, 210], dtype=np.uint8)


def pattern(
    count: int = 3, seed: int = 0, shape: tuple[int, int] = (64, 128)
) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images and masks (count, *shape) with image == LEVELS[mask]."""
    rng = np.random.default_rng(seed)
    blocks = rng.integers(0, 5, size=(count, shape[0] // 8, shape[1] // 8))
    masks = np.kron(blocks, np.ones((8, 8), dtype=np.int64)).astype(np.uint8)
    return LEVELS[masks], masks


def interior(masks: np.ndarray, width: int = 3) -> np.ndarray:
    """Pixels whose width x width neighbourhood holds one label and lies inside the picture
    (bool)."""
    size = (1,) * (masks.ndim - 2) + (width, width)
    low = ndimage.minimum_filter(masks, size=size, mode="constant", cval=0)
    high = ndimage.maximum_filter(masks, size=size, mode="constant", cval=255)
    return low == high


def assert_aligned(images: np.ndarray, masks: np.ndarray, *, exact: bool) -> None:
    expected = LEVELS[masks]
    where = np.ones(masks.shape, dtype=bool) if exact else interior(masks)
    assert where.mean() > 0.4, "too few pixels left to check"
    np.testing.assert_array_equal(images[where], expected[where])


def assert_labels_kept(before: np.ndarray, after: np.ndarray) -> None:
    """No new label: every label of `after` is in `before` or is Background (an uncovered pixel)."""
    assert after.dtype == before.dtype
    assert set(np.unique(after)) <= set(np.unique(before)) | {0}


# ---------------------------------------------------------------- hand-written transforms


@pytest.mark.parametrize(
    ("transform", "reference"),
    [
        (hand.hflip, np.fliplr),
        (hand.vflip, np.flipud),
        (hand.rotate180, lambda a: np.rot90(a, 2)),
    ],
    ids=["hflip", "vflip", "rotate180"],
)
def test_mirrors_match_numpy_and_stay_aligned(transform, reference) -> None:
    images, masks = pattern()
    for image, mask in zip(images, masks, strict=True):
        new_image, new_mask = transform(image, mask)
        np.testing.assert_array_equal(new_image, reference(image))
        np.testing.assert_array_equal(new_mask, reference(mask))
        assert new_image.dtype == image.dtype and new_mask.dtype == mask.dtype
    stacked_images, stacked_masks = transform(images, masks)
    np.testing.assert_array_equal(stacked_images[1], transform(images[1], masks[1])[0])
    assert_aligned(stacked_images, stacked_masks, exact=True)


def test_rotate90_of_a_square_is_numpy_rot90() -> None:
    images, masks = pattern(shape=(64, 64))
    for k in (1, 2, 3, -1):
        new_images, new_masks = hand.rotate90(images, masks, k=k)
        np.testing.assert_array_equal(new_images, np.rot90(images, k, axes=(1, 2)))
        np.testing.assert_array_equal(new_masks, np.rot90(masks, k, axes=(1, 2)))


def test_rotate90_of_64x128_turns_then_enlarges_the_centre_32x64_window() -> None:
    images, masks = pattern()
    new_images, new_masks = hand.rotate90(images, masks, k=1)
    assert new_images.shape == images.shape and new_images.dtype == np.uint8
    window = (slice(None), slice(48, 80), slice(0, 64))  # centre 32x64 of the turned 128x64 picture
    turned_images, turned_masks = (
        np.rot90(images, 1, axes=(1, 2))[window],
        np.rot90(masks, 1, axes=(1, 2))[window],
    )
    np.testing.assert_array_equal(new_masks, turned_masks.repeat(2, axis=1).repeat(2, axis=2))
    for new, turned in zip(new_images, turned_images, strict=True):
        reference = cv2.resize(
            np.ascontiguousarray(turned), (128, 64), interpolation=cv2.INTER_LINEAR
        )
        assert np.abs(new.astype(int) - reference).max() <= 1
    assert_aligned(new_images, new_masks, exact=False)


@pytest.mark.parametrize(("dy", "dx"), [(3, -7), (-4, 8), (0, 5), (10, 0)])
def test_shift_is_a_roll_with_background_filling_in(dy: int, dx: int) -> None:
    images, masks = pattern()
    new_images, new_masks = hand.shift(images, masks, dy, dx)
    expected_images = np.roll(images, (dy, dx), axis=(1, 2))
    expected_masks = np.roll(masks, (dy, dx), axis=(1, 2))
    uncovered = np.zeros(images.shape[1:], dtype=bool)
    if dy > 0:
        uncovered[:dy] = True
    if dy < 0:
        uncovered[dy:] = True
    if dx > 0:
        uncovered[:, :dx] = True
    if dx < 0:
        uncovered[:, dx:] = True
    expected_images[:, uncovered], expected_masks[:, uncovered] = 0, 0
    np.testing.assert_array_equal(new_images, expected_images)
    np.testing.assert_array_equal(new_masks, expected_masks)
    assert_aligned(new_images, new_masks, exact=True)


def test_shift_reflect_mirrors_the_edge() -> None:
    images, masks = pattern()
    new_images, new_masks = hand.shift(images, masks, 0, 3, mode="reflect")
    np.testing.assert_array_equal(new_images[:, :, :3], images[:, :, 3:0:-1])
    np.testing.assert_array_equal(new_masks[:, :, 3:], masks[:, :, :-3])
    assert_aligned(new_images, new_masks, exact=True)


@pytest.mark.parametrize("size", [(64, 128), (128, 64), (16, 32)])
def test_resize_matches_opencv(size: tuple[int, int]) -> None:
    # Input sizes chosen so no output pixel centre falls exactly half-way between two inputs,
    # where OpenCV's nearest neighbour breaks the tie downwards and ours upwards.
    rng = np.random.default_rng(1)
    image = rng.integers(0, 256, size=(17, 33), dtype=np.uint8)
    dsize = (size[1], size[0])
    assert (
        np.abs(hand.resize_bilinear(image, size).astype(int) - cv2.resize(image, dsize)).max() <= 1
    )
    as_float = image.astype(np.float32) / 255
    np.testing.assert_allclose(
        hand.resize_bilinear(as_float, size),
        cv2.resize(as_float, dsize, interpolation=cv2.INTER_LINEAR),
        atol=1e-5,
    )
    np.testing.assert_array_equal(
        hand.resize_nearest(image, size),
        cv2.resize(image, dsize, interpolation=cv2.INTER_NEAREST_EXACT),
    )


def test_crop_resize_zooms_into_the_window() -> None:
    images, masks = pattern()
    new_images, new_masks = hand.crop_resize(images, masks, 8, 16, 32, 64)
    assert new_images.shape == images.shape and new_images.dtype == images.dtype
    np.testing.assert_array_equal(
        new_masks, masks[:, 8:40, 16:80].repeat(2, axis=1).repeat(2, axis=2)
    )
    assert_aligned(new_images, new_masks, exact=False)
    small_images, small_masks = hand.crop_resize(images[0], masks[0], 0, 0, 20, 30, size=(40, 60))
    assert small_images.shape == (40, 60) and small_masks.shape == (40, 60)


@pytest.mark.parametrize("name", list(hand.RANDOM_TRANSFORMS))
def test_random_hand_transforms_keep_alignment_labels_and_dtypes(name: str) -> None:
    images, masks = pattern(count=8)
    new_images, new_masks = hand.augment(images, masks, [name], p=1.0, seed=3)
    assert new_images.shape == images.shape and new_images.dtype == np.uint8
    assert_labels_kept(masks, new_masks)
    assert_aligned(new_images, new_masks, exact=name not in ("rotate90", "crop_resize"))


def test_hand_augment_is_reproducible_and_per_image() -> None:
    images, masks = pattern(count=12)
    first = hand.augment(images, masks, seed=5)
    again = hand.augment(images, masks, seed=5)
    other = hand.augment(images, masks, seed=6)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])
    head = hand.augment(images[:4], masks[:4], seed=5)
    np.testing.assert_array_equal(head[0], first[0][:4])
    untouched = hand.augment(images, masks, seed=5, p=0.0)
    np.testing.assert_array_equal(untouched[0], images)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda i, m: hand.hflip(i, m[:, :-1]), "same shape"),
        (lambda i, m: hand.hflip(i, m.astype(np.float32)), "integer"),
        (lambda i, m: hand.hflip(i, m + 5), "0..4"),
        (lambda i, m: hand.hflip(i[None, None], m[None, None]), r"\(H, W\)"),
        (lambda i, m: hand.shift(i, m, 64, 0), "smaller"),
        (lambda i, m: hand.shift(i, m, 1, 0, mode="wrap"), "mode"),
        (lambda i, m: hand.crop_resize(i, m, 40, 0, 32, 64), "inside"),
        (lambda i, m: hand.augment(i[None], m[None], ["twirl"]), "unknown"),
        (lambda i, m: hand.augment(i, m), r"stack"),
    ],
)
def test_hand_transforms_reject_bad_input(call, message: str) -> None:
    images, masks = pattern(count=1)
    with pytest.raises(ValueError, match=message):
        call(images[0], masks[0])


# ---------------------------------------------------------------- Albumentations


def test_albumentations_mirrors_and_shift_equal_the_hand_written_ones() -> None:
    images, masks = pattern()
    image, mask = images[0], masks[0]
    for library, ours in ((A.HorizontalFlip(p=1), hand.hflip), (A.VerticalFlip(p=1), hand.vflip)):
        result = A.Compose([library])(image=image, mask=mask)
        expected = ours(image, mask)
        np.testing.assert_array_equal(result["image"], expected[0])
        np.testing.assert_array_equal(result["mask"], expected[1])
    shift = A.Affine(
        translate_px={"x": 5, "y": -3}, border_mode=cv2.BORDER_CONSTANT, fill=0, fill_mask=0, p=1
    )
    result = A.Compose([shift])(image=image, mask=mask)
    expected = hand.shift(image, mask, -3, 5)
    np.testing.assert_array_equal(result["image"], expected[0])
    np.testing.assert_array_equal(result["mask"], expected[1])


@pytest.mark.parametrize(
    "name", [name for name in albu.names() if name not in ("brightness", "rich")]
)
def test_albumentations_geometric_pipelines_keep_alignment(name: str) -> None:
    images, masks = pattern(count=6)
    new_images, new_masks = albu.apply(name, images, masks, p=1.0, seed=2)
    assert new_images.shape == images.shape and new_images.dtype == np.uint8
    assert_labels_kept(masks, new_masks)
    assert_aligned(
        new_images, new_masks, exact=name in ("hflip", "vflip", "shift", "safe", "safe_vflip")
    )
    assert not np.array_equal(new_masks, masks)


def row_ramp(count: int) -> tuple[np.ndarray, np.ndarray]:
    """Images whose grey level is the row number + 1 (uint8 (count, 64, 128)), masks all Soil."""
    images = np.repeat(np.arange(1, 65, dtype=np.uint8)[None, :, None], 128, axis=2)
    return np.repeat(images, count, axis=0), np.ones((count, 64, 128), np.uint8)


def upside_down(image: np.ndarray) -> bool:
    """True when the rows of a row-ramp image (0 where shifted in) run from bottom to top."""
    rows = image.max(axis=1).astype(int)
    rows = rows[rows > 0]
    return bool(np.all(np.diff(rows) < 0))


def test_the_safe_pipeline_never_turns_a_picture_upside_down() -> None:
    images, masks = row_ramp(count=40)
    level, _ = albu.apply("safe", images, masks, p=1.0, seed=3)
    assert not any(upside_down(image) for image in level)
    hand_level, _ = hand.augment(images, masks, hand.SAFE, p=1.0, seed=3)
    assert not any(upside_down(image) for image in hand_level)
    both, _ = albu.apply("safe_vflip", images, masks, p=1.0, seed=3)
    assert all(upside_down(image) for image in both)  # p=1: every vertical flip happens


def test_albumentations_brightness_changes_the_image_only() -> None:
    images, masks = pattern(count=6)
    new_images, new_masks = albu.apply("brightness", images, masks, p=1.0, seed=2)
    np.testing.assert_array_equal(new_masks, masks)
    assert not np.array_equal(new_images, images)


def test_albumentations_rich_pipeline_keeps_each_region_one_grey_level() -> None:
    # Brightness and contrast change the levels, so check that within each image the interior
    # pixels of a class share one grey level (up to rounding) and the levels keep their order.
    # Rotation and zoom resample the image twice, blurring edges over 2 pixels: check 5x5 interiors.
    images, masks = pattern(count=6)
    new_images, new_masks = albu.apply("rich", images, masks, p=1.0, seed=4)
    assert_labels_kept(masks, new_masks)
    inside = interior(new_masks, width=5)
    for image, mask, where in zip(new_images, new_masks, inside, strict=True):
        levels = []
        for label in np.unique(mask[where]):
            values = image[where & (mask == label)].astype(int)
            assert values.max() - values.min() <= 2
            levels.append(values.mean())
        assert levels == sorted(levels)


def test_albumentations_seeds_reproduce() -> None:
    images, masks = pattern(count=6)
    first = albu.apply("rich", images, masks, seed=9)
    again = albu.apply("rich", images, masks, seed=9)
    other = albu.apply("rich", images, masks, seed=10)
    np.testing.assert_array_equal(first[0], again[0])
    np.testing.assert_array_equal(first[1], again[1])
    assert not np.array_equal(first[0], other[0])


def test_albumentations_rejects_bad_input() -> None:
    images, masks = pattern(count=2)
    with pytest.raises(ValueError, match="unknown pipeline"):
        albu.pipeline("spin")
    with pytest.raises(ValueError, match="uint8"):
        albu.apply("safe", images.astype(np.float32), masks)
    with pytest.raises(ValueError, match="p must"):
        albu.pipeline("safe", p=1.5)


# ---------------------------------------------------------------- Big Rock balancing


def rock_scene(count: int, seed: int = 0, every: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images and masks (count, 64, 128): ground in three classes, an elliptic rock in every
    `every`-th image; image == LEVELS[mask], so crops can be checked for alignment too."""
    rng = np.random.default_rng(seed)
    masks = np.clip(pattern(count, seed)[1], 1, 3)  # ground: soil, bedrock, sand
    rows, cols = np.mgrid[:64, :128]
    for i in range(0, count, every):
        cy, cx, ry, rx = (
            rng.integers(8, 56),
            rng.integers(12, 116),
            rng.integers(3, 7),
            rng.integers(5, 11),
        )
        masks[i][((rows - cy) / ry) ** 2 + ((cols - cx) / rx) ** 2 < 1] = BIG_ROCK
    return LEVELS[masks], masks


def test_rock_boxes_find_each_rock_and_skip_specks() -> None:
    mask = np.ones((64, 128), dtype=np.uint8)
    mask[10:20, 30:50] = BIG_ROCK  # a rock
    mask[40, 100:104] = BIG_ROCK  # a speck of 4 pixels
    mask[50:55, 5:9] = BIG_ROCK  # a second rock of 20 pixels
    mask[55, 9] = BIG_ROCK  # touching it diagonally: part of it
    boxes = balance.rock_boxes(mask, min_pixels=10)
    assert boxes == [balance.Box(10, 30, 10, 20), balance.Box(50, 5, 6, 5)]


def test_source_indices_count_big_rock_pixels() -> None:
    masks = np.ones((4, 8, 8), dtype=np.uint8)
    masks[1, :2, :3] = BIG_ROCK  # 6 pixels
    masks[3, :4, :4] = BIG_ROCK  # 16 pixels
    np.testing.assert_array_equal(balance.source_indices(masks, min_pixels=6), [1, 3])
    np.testing.assert_array_equal(balance.source_indices(masks, min_pixels=7), [3])
    assert balance.bigrock_share(masks) == pytest.approx(22 / 256)


def test_crop_windows_hold_the_rock_keep_the_aspect_and_stay_inside() -> None:
    rng = np.random.default_rng(0)
    for _ in range(300):
        height, width = int(rng.integers(1, 30)), int(rng.integers(1, 60))
        rock = balance.Box(
            int(rng.integers(0, 64 - height + 1)),
            int(rng.integers(0, 128 - width + 1)),
            height,
            width,
        )
        window = balance.crop_window(rock, (64, 128), rng)
        assert 0 <= window.top and window.top + window.height <= 64
        assert 0 <= window.left and window.left + window.width <= 128
        assert window.width == min(128, 2 * window.height)
        assert window.height >= balance.MIN_WINDOW_HEIGHT
        assert window.top <= rock.top and rock.top + rock.height <= window.top + window.height
        assert window.left <= rock.left and rock.left + rock.width <= window.left + window.width


@pytest.mark.parametrize("target", [0.02, 0.05])
def test_rock_crops_reach_the_target_share_from_their_sources(target: float) -> None:
    images, masks = rock_scene(60)
    crops = balance.rock_crops(images, masks, target_share=target, min_pixels=20, seed=1)
    combined = np.concatenate([masks, crops.masks])
    assert target <= balance.bigrock_share(combined) < target + 1 / len(combined)
    assert balance.bigrock_share(masks) < target and len(crops.images) > 0
    assert set(crops.sources) <= set(balance.source_indices(masks, 20))
    assert crops.images.dtype == np.uint8 and crops.masks.shape == (len(crops.images), 64, 128)
    for k in range(len(crops.images)):  # rebuild every sample from its provenance
        w = crops.windows[k]
        image, mask = hand.crop_resize(
            images[crops.sources[k]], masks[crops.sources[k]], w.top, w.left, w.height, w.width
        )
        if crops.flipped[k]:
            image, mask = hand.hflip(image, mask)
        np.testing.assert_array_equal(crops.images[k], image)
        np.testing.assert_array_equal(crops.masks[k], mask)


def test_rock_crops_are_reproducible_and_stop_when_the_share_is_reached() -> None:
    images, masks = rock_scene(40)
    first = balance.rock_crops(images, masks, seed=3)
    again = balance.rock_crops(images, masks, seed=3)
    np.testing.assert_array_equal(first.images, again.images)
    assert first.windows == again.windows
    share = balance.bigrock_share(masks)
    assert len(balance.rock_crops(images, masks, target_share=share / 2).images) == 0


def test_balancing_explains_what_it_cannot_do() -> None:
    images, masks = rock_scene(20)
    with pytest.raises(ValueError, match="out of reach"):
        balance.rock_crops(images, masks, target_share=0.9)
    no_rock = np.where(masks == BIG_ROCK, 1, masks).astype(np.uint8)
    with pytest.raises(ValueError, match="nothing to balance"):
        balance.cutmix(images, no_rock)
    with pytest.raises(ValueError, match="target_share"):
        balance.rock_crops(images, masks, target_share=0.0)
    with pytest.raises(ValueError, match="uint8"):
        balance.rock_crops(images, masks.astype(np.int64))


def test_cutmix_pastes_rocks_sideways_and_reaches_the_share() -> None:
    images, masks = rock_scene(60)
    mixed = balance.cutmix(
        images, masks, target_share=0.015, min_pixels=20, patches_per_image=2, seed=2
    )
    combined = np.concatenate([masks, mixed.masks])
    assert 0.015 <= balance.bigrock_share(combined) < 0.015 + 1 / len(combined)
    assert {len(patches) for patches in mixed.patches} <= {1, 2} and 2 in {
        len(p) for p in mixed.patches
    }
    for k, patches in enumerate(mixed.patches):
        covered = np.zeros((64, 128), dtype=int)
        for patch in patches:
            covered[
                balance.Box(patch.top, patch.left, patch.box.height, patch.box.width).slices
            ] += 1
        assert covered.max() == 1, "a patch was pasted over another"
        expected_image, expected_mask = (
            images[mixed.targets[k]].copy(),
            masks[mixed.targets[k]].copy(),
        )
        for patch in patches:
            assert patch.source in set(balance.source_indices(masks, 20))
            assert (
                patch.top == patch.box.top
                and abs(patch.left - patch.box.left) <= balance.MAX_SIDEWAYS
            )
            where = balance.Box(patch.top, patch.left, patch.box.height, patch.box.width).slices
            expected_image[where] = images[patch.source][patch.box.slices]
            expected_mask[where] = masks[patch.source][patch.box.slices]
        np.testing.assert_array_equal(mixed.images[k], expected_image)
        np.testing.assert_array_equal(mixed.masks[k], expected_mask)
    again = balance.cutmix(
        images, masks, target_share=0.015, min_pixels=20, patches_per_image=2, seed=2
    )
    np.testing.assert_array_equal(mixed.images, again.images)


@pytest.mark.parametrize("count", [0, 1, 7, 40])
def test_cutmix_makes_exactly_count_images_whatever_the_share(count: int) -> None:
    images, masks = rock_scene(30)
    mixed = balance.cutmix(images, masks, min_pixels=20, count=count, seed=4)
    assert len(mixed.images) == len(mixed.masks) == len(mixed.targets) == count
    assert all(patches for patches in mixed.patches), "every CutMix image gets a rock"
    assert all((mask == BIG_ROCK).sum() >= balance.MIN_ROCK_PIXELS for mask in mixed.masks)


@pytest.mark.parametrize("count", [-1, 2.0, True, "3"])
def test_cutmix_rejects_a_bad_count(count: object) -> None:
    images, masks = rock_scene(10)
    with pytest.raises(ValueError, match="count must be an integer"):
        balance.cutmix(images, masks, count=count)


def test_share_table_before_and_after() -> None:
    before = np.array([[[1, 1], [2, 4]]], dtype=np.uint8)
    after = np.concatenate([before, np.full((1, 2, 2), BIG_ROCK, dtype=np.uint8)])
    table = balance.share_table(before, after)
    assert table.loc["Big Rock", "before"] == pytest.approx(0.25)
    assert table.loc["Big Rock", "after"] == pytest.approx(5 / 8)
    assert table.loc["Soil", "after"] == pytest.approx(2 / 8)
    assert list(table["images after"].unique()) == [2]


# ---------------------------------------------------------------- the dataset variants


@dataclass
class IdData:
    """Shaped like `marslib.data.MarsData` as far as the builders use it. Every image is filled
    with its own grey level (index + 1), so any output pixel names the image it came from."""

    train_images: np.ndarray
    train_masks: np.ndarray
    fingerprint: str = "ids00001"
    source: str = "hand-made"
    meta: dict = field(default_factory=dict)


ALIENS = np.arange(3, 120, 10)  # 12 identical multi-class masks holding a big rock


@pytest.fixture
def id_data() -> IdData:
    _, masks = rock_scene(120, seed=4, every=4)
    alien = masks[0].copy()
    alien[20:40, 40:80] = BIG_ROCK
    masks[ALIENS] = alien
    images = np.repeat(np.arange(1, 121, dtype=np.uint8)[:, None, None], 64, axis=1).repeat(
        128, axis=2
    )
    return IdData(images, masks)


@pytest.mark.parametrize(
    "name",
    ["balanced_bigrock", "augmented_bigrock_vflip", "augmented_bigrock_level", "cutmix_bigrock"],
)
def test_variants_use_only_the_cleaned_images_at_the_indices(
    name: str, id_data: IdData, folders: Path
) -> None:
    rng = np.random.default_rng(0)
    train = np.sort(rng.choice(120, size=84, replace=False))
    allowed = set((np.setdiff1d(train, ALIENS) + 1).tolist()) | {
        0
    }  # grey levels of the cleaned train images; 0: shifted in
    images, masks = datasets.build(name, id_data, train, seed=1)
    assert images.dtype == np.uint8 and masks.dtype == np.uint8 and images.shape == masks.shape
    assert set(np.unique(images).tolist()) <= allowed
    cleaned = np.setdiff1d(train, ALIENS)
    np.testing.assert_array_equal(images[: len(cleaned)], id_data.train_images[cleaned])
    np.testing.assert_array_equal(masks[: len(cleaned)], id_data.train_masks[cleaned])
    assert (
        balance.bigrock_share(masks) >= balance.TARGET_SHARE * 0.95
    )  # augmented copies lose edge pixels
    again, _ = datasets.build(name, id_data, train, seed=1, cache=False)
    np.testing.assert_array_equal(images, again)


def test_augmented_bigrock_is_balanced_bigrock_plus_augmented_copies(id_data: IdData) -> None:
    train = np.arange(0, 120, 2)
    balanced, balanced_masks = balance.balanced_bigrock_variant(id_data, train, seed=0)
    augmented, augmented_masks = balance.augmented_bigrock_vflip_variant(id_data, train, seed=0)
    assert len(augmented) == len(balanced) * (1 + balance.AUGMENT_COPIES)
    np.testing.assert_array_equal(augmented[: len(balanced)], balanced)
    assert not np.array_equal(augmented_masks[len(balanced) :], balanced_masks)


def test_augmented_bigrock_level_copies_are_mirrored_and_shifted_but_never_flipped(
    id_data: IdData,
) -> None:
    train = np.arange(0, 120, 2)
    balanced, balanced_masks = balance.balanced_bigrock_variant(id_data, train, seed=0)
    level, level_masks = balance.augmented_bigrock_level_variant(id_data, train, seed=0)
    np.testing.assert_array_equal(level[: len(balanced)], balanced)
    dy_max, dx_max = hand.MAX_SHIFT
    moved = 0
    for image, mask, new_mask in zip(
        balanced, balanced_masks, level_masks[len(balanced) :], strict=True
    ):
        candidates = [
            hand.shift(image, mask[:, ::-1] if mirror else mask, dy, dx)[1]
            for mirror in (False, True)
            for dy in range(-dy_max, dy_max + 1)
            for dx in range(-dx_max, dx_max + 1)
        ]
        assert any(np.array_equal(new_mask, c) for c in candidates), "not a mirror/shift"
        moved += not np.array_equal(new_mask, mask)
    assert moved > len(balanced) // 2, "most copies should be moved"


def is_safe_copy(
    image: np.ndarray, mask: np.ndarray, copy: np.ndarray, copy_mask: np.ndarray
) -> bool:
    """Whether (copy, copy_mask) is (image, mask) mirrored left-right or not, then shifted by at
    most `hand.MAX_SHIFT`, never turned upside down: what the "safe" pipeline may do."""
    dy_max, dx_max = hand.MAX_SHIFT
    return any(
        all(np.array_equal(a, b) for a, b in zip(hand.shift(i, m, dy, dx), (copy, copy_mask)))
        for i, m in ((image, mask), (image[:, ::-1], mask[:, ::-1]))
        for dy in range(-dy_max, dy_max + 1)
        for dx in range(-dx_max, dx_max + 1)
    )


LEVEL_SETS = ["augmented_bigrock_level", "cutmix_bigrock_level", "oversampled_bigrock_level"]
LEVEL_TRAIN = np.sort(np.random.default_rng(5).choice(120, size=90, replace=False))
LEVEL_CLEANED = np.setdiff1d(LEVEL_TRAIN, ALIENS)  # the cleaned images among them


@pytest.fixture
def level_sets(id_data: IdData, folders: Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """The three sets of the recipe's size, built on 90 of the 120 training images, seed 1."""
    return {name: datasets.build(name, id_data, LEVEL_TRAIN, seed=1) for name in LEVEL_SETS}


def test_the_level_sets_have_the_size_of_augmented_bigrock(
    id_data: IdData, level_sets: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    balanced, _ = balance.balanced_bigrock_variant(id_data, LEVEL_TRAIN, seed=1)
    assert len(balanced) > len(LEVEL_CLEANED), "the rock crops add images"
    for name, (images, masks) in level_sets.items():
        assert images.shape == masks.shape == (2 * len(balanced), 64, 128), name
        assert images.dtype == masks.dtype == np.uint8, name


@pytest.mark.parametrize("name", LEVEL_SETS)
def test_a_level_set_is_its_base_then_one_safe_copy_of_it(
    name: str, id_data: IdData, level_sets: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    images, masks = level_sets[name]
    half = len(images) // 2
    base, base_masks = images[:half], masks[:half]
    seed = int(np.random.default_rng([1, 0]).integers(2**31))  # copy 0 of the set's seed 1
    copy, copy_masks = albu.apply("safe", base, base_masks, seed=seed)
    np.testing.assert_array_equal(images[half:], copy)
    np.testing.assert_array_equal(masks[half:], copy_masks)
    flags = [is_safe_copy(*pair) for pair in zip(base, base_masks, copy, copy_masks, strict=True)]
    assert all(flags), f"{flags.count(False)} copies are no mirror/shift of their base image"
    moved = sum(not np.array_equal(a, b) for a, b in zip(base_masks, copy_masks, strict=True))
    assert moved > half // 2, "most copies should be moved"
    first = len(LEVEL_CLEANED)  # the base starts with the cleaned images
    np.testing.assert_array_equal(images[:first], id_data.train_images[LEVEL_CLEANED])
    np.testing.assert_array_equal(masks[:first], id_data.train_masks[LEVEL_CLEANED])
    again = datasets.build(name, id_data, LEVEL_TRAIN, seed=1, cache=False)
    np.testing.assert_array_equal(images, again[0])


def test_the_cutmix_level_base_adds_images_with_rocks_pasted_in(
    id_data: IdData, level_sets: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    images, masks = level_sets["cutmix_bigrock_level"]
    base = slice(len(LEVEL_CLEANED), len(images) // 2)  # the extra images of the base
    sources = LEVEL_CLEANED[balance.source_indices(id_data.train_masks[LEVEL_CLEANED])]
    extra, extra_masks = images[base], masks[base]
    assert len(extra) > 0
    for image, mask in zip(extra, extra_masks, strict=True):
        levels, counts = np.unique(image, return_counts=True)
        target = int(levels[counts.argmax()]) - 1  # the image pasted into (grey level = index + 1)
        assert target in LEVEL_CLEANED
        pasted = image != target + 1
        assert pasted.any(), "nothing was pasted"
        assert set((np.unique(image[pasted]) - 1).tolist()) <= set(sources.tolist())
        assert (mask[pasted] == BIG_ROCK).any(), "the pasted pixels hold no Big Rock"
        np.testing.assert_array_equal(mask[~pasted], id_data.train_masks[target][~pasted])


def test_the_oversampled_level_base_adds_copies_of_the_big_rock_images(
    id_data: IdData, level_sets: dict[str, tuple[np.ndarray, np.ndarray]]
) -> None:
    images, masks = level_sets["oversampled_bigrock_level"]
    base = slice(len(LEVEL_CLEANED), len(images) // 2)  # the extra images of the base
    sources = LEVEL_CLEANED[balance.source_indices(id_data.train_masks[LEVEL_CLEANED])]
    extra = images[base, 0, 0].astype(int) - 1  # grey level = index + 1
    assert len(extra) > 0
    np.testing.assert_array_equal(images[base], id_data.train_images[extra])
    np.testing.assert_array_equal(masks[base], id_data.train_masks[extra])
    copies = np.array([(extra == s).sum() for s in sources])
    assert set(extra.tolist()) <= set(sources.tolist())
    assert copies.sum() == len(extra) and copies.max() - copies.min() <= 1, copies


# ---------------------------------------------------------------- the tf.data pipeline


def test_pipeline_batches_match_the_spec() -> None:
    from marslib.augment.pipeline import make_dataset

    images, masks = pattern(count=10)
    batches = list(make_dataset(images, masks, batch_size=4, augment=None, shuffle=False))
    assert [len(x) for x, _ in batches] == [4, 4, 2]
    x, y = batches[0]
    assert x.dtype.name == "float32" and x.shape == (4, 64, 128, 1)
    assert y.dtype.name == "int32" and y.shape == (4, 64, 128)
    every_x = np.concatenate([x.numpy() for x, _ in batches])
    every_y = np.concatenate([y.numpy() for _, y in batches])
    np.testing.assert_allclose(every_x[..., 0], images / 255.0, atol=1e-7)
    np.testing.assert_array_equal(every_y, masks)
    shuffled = np.concatenate(
        [y.numpy() for _, y in make_dataset(images, masks, 4, augment=None, seed=1)]
    )
    assert sorted(map(bytes, shuffled)) == sorted(
        map(bytes, masks.astype(np.int32))
    )  # a permutation
    assert not np.array_equal(shuffled, masks)


@pytest.mark.parametrize("augment", ["hflip", "flips", "safe", "safe_vflip"])
def test_pipeline_moves_each_image_with_its_mask(augment: str) -> None:
    from marslib.augment.pipeline import make_dataset

    # 16 images: a random flip of each leaves all 16 unflipped once in 65,536 draws.
    images, masks = pattern(count=16, seed=2)
    x, y = next(
        iter(make_dataset(images, masks, batch_size=16, augment=augment, shuffle=False, seed=4))
    )
    new_images = np.rint(x.numpy()[..., 0] * 255).astype(np.uint8)
    new_masks = y.numpy()
    assert_aligned(new_images, new_masks, exact=True)
    assert not np.array_equal(new_masks, masks), "nothing was augmented"
    dy_max, dx_max = hand.MAX_SHIFT if augment in ("safe", "safe_vflip") else (0, 0)
    for image, mask, _new_image, new_mask in zip(images, masks, new_images, new_masks, strict=True):
        candidates = []
        for flip_rows, flip_cols in itertools.product(
            [False, True] if augment in ("flips", "safe_vflip") else [False], [False, True]
        ):
            flipped = mask[::-1] if flip_rows else mask
            flipped = flipped[:, ::-1] if flip_cols else flipped
            for dy, dx in itertools.product(range(-dy_max, dy_max + 1), range(-dx_max, dx_max + 1)):
                candidates.append(hand.shift(image, flipped, dy, dx)[1])
        assert any(np.array_equal(new_mask, c) for c in candidates), (
            "not a flip/shift of its own input"
        )


def test_pipeline_is_deterministic_by_seed_and_varies_by_epoch() -> None:
    from marslib.augment.pipeline import make_dataset

    images, masks = pattern(count=20, seed=3)

    def two_epochs(seed: int) -> list[np.ndarray]:
        dataset = make_dataset(images, masks, batch_size=8, augment="safe", seed=seed)
        return [np.concatenate([y.numpy() for _, y in dataset]) for _ in range(2)]

    first, again, other = two_epochs(7), two_epochs(7), two_epochs(8)
    for a, b in zip(first, again, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first[0], first[1])
    assert not np.array_equal(first[0], other[0])


def test_pipeline_rejects_bad_input() -> None:
    from marslib.augment.pipeline import make_dataset

    images, masks = pattern(count=2)
    with pytest.raises(ValueError, match="uint8"):
        make_dataset(images.astype(np.float32), masks, 2)
    with pytest.raises(ValueError, match="batch_size"):
        make_dataset(images, masks, 0)
    with pytest.raises(ValueError, match="augment"):
        make_dataset(images, masks, 2, augment="rotate")
    with pytest.raises(ValueError, match="seed"):
        make_dataset(images, masks, 2, seed=-1)


# ---------------------------------------------------------------- figures


def test_mask_edges_and_outlines_by_hand() -> None:
    from marslib.figures import augmentation as plots

    mask = np.array([[1, 1, 2], [1, 1, 2], [3, 3, 3]], dtype=np.uint8)
    expected = np.array([[False, True, False], [True, True, True], [False, False, False]])
    np.testing.assert_array_equal(plots.mask_edges(mask), expected)
    picture = plots.outlined(np.full((3, 3), 51, dtype=np.uint8), mask)
    assert picture.shape == (3, 3, 3)
    np.testing.assert_allclose(picture[expected], 1.0)
    np.testing.assert_allclose(picture[~expected], 0.2)


def test_figures_draw_what_they_are_given() -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Rectangle

    from marslib.bench.measurement import Measurement
    from marslib.figures import augmentation as plots

    images, masks = rock_scene(30)
    crops = balance.rock_crops(images, masks, target_share=0.02, min_pixels=20, seed=0)
    fig = plots.rock_crops_figure(images, masks, crops, samples=[0, 1])
    for row, k in zip(np.reshape(fig.axes, (2, 4)), [0, 1], strict=True):
        drawn = [p for p in row[0].patches if isinstance(p, Rectangle)]
        assert [
            (r.get_x() + 0.5, r.get_y() + 0.5, r.get_width(), r.get_height()) for r in drawn
        ] == [
            (
                crops.windows[k].left,
                crops.windows[k].top,
                crops.windows[k].width,
                crops.windows[k].height,
            )
        ]
    mixed = balance.cutmix(images, masks, target_share=0.01, min_pixels=20, seed=0)
    fig = plots.cutmix_figure(images, masks, mixed, samples=[0])
    assert len(fig.axes[1].patches) == len(mixed.patches[0])
    fig = plots.transform_gallery(
        {"a": (images[0], masks[0]), "b": hand.hflip(images[0], masks[0])}, columns=2
    )
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    measured = [Measurement("x", 1000.0, "images/s"), Measurement("y", 50.0, "images/s")]
    fig = plots.throughput_chart(measured, training_rate=100.0)
    assert sorted(bar.get_width() for bar in fig.axes[0].patches) == [50.0, 1000.0]
    table = balance.share_table(masks, np.concatenate([masks, crops.masks]))
    fig = plots.share_chart({"crops": table})
    heights = sorted(bar.get_height() for bar in fig.axes[0].patches)
    np.testing.assert_allclose(
        heights, sorted(np.concatenate([table["before"], table["after"]]) * 100)
    )
    plt.close("all")
