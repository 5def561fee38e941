"""Big Rock oversampling: which images are repeated, how often,
and the dataset variant built from it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from marslib import datasets
from marslib.augment import balance
from marslib.core.classes import BIG_ROCK, SAND, SOIL


def test_oversampled_positions_repeat_each_big_rock_image() -> None:
    masks = np.full((5, 8, 16), SOIL, dtype=np.uint8)
    masks[1, :4, :4] = BIG_ROCK  # 16 pixels
    masks[2, 0, :3] = BIG_ROCK  # 3 pixels: too few at min_pixels=10
    masks[4, :2, :8] = BIG_ROCK  # 16 pixels
    np.testing.assert_array_equal(
        balance.oversampled_positions(masks, times=3, min_pixels=10), [1, 1, 4, 4]
    )
    np.testing.assert_array_equal(
        balance.oversampled_positions(masks, times=2, min_pixels=3), [1, 2, 4]
    )
    assert len(balance.oversampled_positions(masks, times=1, min_pixels=10)) == 0


@pytest.mark.parametrize("times", [0, -2, 2.5, True])
def test_oversampled_positions_reject_a_bad_count(times: object) -> None:
    masks = np.full((2, 8, 16), SOIL, dtype=np.uint8)
    with pytest.raises(ValueError, match="times must be an integer"):
        balance.oversampled_positions(masks, times=times)


def test_repeated_positions_copy_the_big_rock_images_in_turn() -> None:
    masks = np.full((5, 8, 16), SOIL, dtype=np.uint8)
    masks[1, :4, :4] = BIG_ROCK  # 16 pixels
    masks[2, 0, :3] = BIG_ROCK  # 3 pixels: too few at min_pixels=10
    masks[4, :2, :8] = BIG_ROCK  # 16 pixels
    np.testing.assert_array_equal(
        balance.repeated_positions(masks, 5, min_pixels=10), [1, 1, 1, 4, 4]
    )
    np.testing.assert_array_equal(balance.repeated_positions(masks, 4, min_pixels=3), [1, 1, 2, 4])
    np.testing.assert_array_equal(balance.repeated_positions(masks, 1, min_pixels=10), [1])
    assert balance.repeated_positions(masks, 0, min_pixels=10).shape == (0,)


@pytest.mark.parametrize("count", [-1, 2.5, True, None])
def test_repeated_positions_reject_a_bad_count(count: object) -> None:
    masks = np.full((2, 8, 16), BIG_ROCK, dtype=np.uint8)
    with pytest.raises(ValueError, match="count must be an integer"):
        balance.repeated_positions(masks, count)


def test_repeated_positions_say_when_no_image_holds_big_rock() -> None:
    masks = np.full((3, 8, 16), SOIL, dtype=np.uint8)
    with pytest.raises(ValueError, match="nothing to copy"):
        balance.repeated_positions(masks, 2)
    assert len(balance.repeated_positions(masks, 0)) == 0


@dataclass
class IdData:
    """Shaped like `marslib.data.MarsData` as far as the builder uses it: image i is filled with
    grey level i + 1, so each output image names the training image it is a copy of."""

    train_images: np.ndarray
    train_masks: np.ndarray
    fingerprint: str = "overs001"
    source: str = "hand-made"
    meta: dict = field(default_factory=dict)


@pytest.fixture
def id_data() -> IdData:
    rng = np.random.default_rng(0)
    count = 60
    masks = rng.integers(SOIL, SAND + 1, size=(count, 64, 128)).astype(
        np.uint8
    )  # every mask differs: no aliens
    masks[::7, 10:20, 30:40] = BIG_ROCK  # 100 Big Rock pixels in every 7th image
    masks[3, 0, :5] = BIG_ROCK  # 5: too few to count as a Big Rock image
    images = np.repeat(np.arange(1, count + 1, dtype=np.uint8)[:, None, None], 64, axis=1).repeat(
        128, axis=2
    )
    return IdData(images, masks)


def test_oversampled_variant_is_the_cleaned_images_then_the_copies(
    id_data: IdData, folders: Path
) -> None:
    train = np.arange(0, 60, 2)  # Big Rock images among them: 0, 14, 28, 42, 56
    images, masks = datasets.build("oversampled_bigrock", id_data, train, seed=0)
    np.testing.assert_array_equal(images[: len(train)], id_data.train_images[train])
    np.testing.assert_array_equal(masks[: len(train)], id_data.train_masks[train])
    appearances = np.bincount(images[:, 0, 0].astype(int) - 1, minlength=60)
    expected = np.zeros(60, dtype=int)
    expected[train] = 1
    expected[[0, 14, 28, 42, 56]] = balance.OVERSAMPLE_TIMES
    np.testing.assert_array_equal(appearances, expected)
    copies = images[len(train) :, 0, 0].astype(int) - 1
    np.testing.assert_array_equal(masks[len(train) :], id_data.train_masks[copies])
    assert balance.bigrock_share(masks) > balance.bigrock_share(id_data.train_masks[train])
    assert "oversampled_bigrock" in datasets.names()
