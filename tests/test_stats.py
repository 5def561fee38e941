"""Pixel statistics and class weights, against hand-computed values and scikit-learn."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.utils.class_weight import compute_class_weight

from marslib.data import stats

# Two 2x3 masks. Pixels per class: 0 -> 2, 1 -> 3 + 1 = 4, 2 -> 1, 3 -> 4, 4 -> 1; 12 in all.
# Image 0 holds classes {0, 1, 2}; image 1 holds {1, 3, 4}.
MASKS = np.array(
    [
        [[0, 0, 1], [1, 1, 2]],
        [[3, 3, 3], [3, 4, 1]],
    ],
    dtype=np.uint8,
)


def test_pixel_counts_and_shares_by_hand() -> None:
    np.testing.assert_array_equal(stats.pixel_counts(MASKS), [2, 4, 1, 4, 1])
    assert stats.pixel_counts(MASKS).dtype == np.int64
    np.testing.assert_allclose(stats.pixel_frequencies(MASKS), np.array([2, 4, 1, 4, 1]) / 12)


def test_presence_and_class_counts_by_hand() -> None:
    np.testing.assert_array_equal(
        stats.presence(MASKS),
        [[True, True, True, False, False], [False, True, False, True, True]],
    )
    np.testing.assert_array_equal(stats.images_per_class(MASKS), [1, 2, 1, 1, 1])
    np.testing.assert_array_equal(stats.classes_per_image(MASKS), [3, 3])
    np.testing.assert_array_equal(stats.class_count_histogram(MASKS), [0, 0, 0, 2, 0, 0])


def test_single_and_two_class_masks_are_counted() -> None:
    masks = np.array([np.full((2, 2), 1), [[1, 3], [3, 3]], [[0, 0], [0, 0]], [[1, 2], [3, 4]]])
    np.testing.assert_array_equal(stats.classes_per_image(masks), [1, 2, 1, 4])
    np.testing.assert_array_equal(stats.class_count_histogram(masks), [0, 2, 1, 0, 1, 0])


def test_frequency_table_rows_and_columns() -> None:
    table = stats.frequency_table(MASKS)
    assert list(table.index) == ["Background", "Soil", "Bedrock", "Sand", "Big Rock"]
    assert table.loc["Soil", "pixels"] == 4 and table.loc["Soil", "images"] == 2
    assert table.loc["Bedrock", "image_share"] == pytest.approx(0.5)
    assert table["share"].sum() == pytest.approx(1.0)


@pytest.mark.parametrize(
    ("method", "ignore_background", "expected"),
    [
        # n / n_c with n = 12 and n_c = 2, 4, 1, 4, 1
        ("inverse_frequency", False, [6, 3, 12, 3, 12]),
        # the same divided by K = 5
        ("balanced", False, [1.2, 0.6, 2.4, 0.6, 2.4]),
        # without background: n = 10 over K = 4 classes
        ("inverse_frequency", True, [0, 2.5, 10, 2.5, 10]),
        ("balanced", True, [0, 0.625, 2.5, 0.625, 2.5]),
        # f_c = n_c / (6 pixels x images holding c) = 1/3, 4/12, 1/6, 4/6, 1/6; median 1/3
        ("median_frequency", False, [1, 1, 2, 0.5, 2]),
        # non-background image sizes 4 and 6: f = 4/10, 1/4, 4/6, 1/6;
        # median (0.25 + 0.4) / 2 = 0.325
        ("median_frequency", True, [0, 0.8125, 1.3, 0.4875, 1.95]),
    ],
)
def test_class_weights_by_hand(method: str, ignore_background: bool, expected: list[float]) -> None:
    weights = stats.class_weights(MASKS, method, ignore_background=ignore_background)
    assert weights.dtype == np.float32 and weights.shape == (5,)
    np.testing.assert_allclose(weights, expected, rtol=1e-6)


def test_cap_limits_every_weight() -> None:
    np.testing.assert_allclose(
        stats.class_weights(MASKS, "balanced", cap=2.0), [1.2, 0.6, 2.0, 0.6, 2.0]
    )
    np.testing.assert_allclose(
        stats.class_weights(MASKS, "inverse_frequency", ignore_background=True, cap=5),
        [0, 2.5, 5, 2.5, 5],
    )


@pytest.fixture
def random_masks() -> np.ndarray:
    rng = np.random.default_rng(0)
    # Skewed shares, as in the real data: Big Rock rare.
    return rng.choice(5, size=(7, 16, 24), p=[0.25, 0.34, 0.23, 0.17, 0.01]).astype(np.uint8)


def test_balanced_equals_scikit_learn(random_masks: np.ndarray) -> None:
    pixels = random_masks.ravel()
    reference = compute_class_weight("balanced", classes=np.arange(5), y=pixels)
    np.testing.assert_allclose(stats.class_weights(random_masks, "balanced"), reference, rtol=1e-6)


def test_balanced_without_background_equals_scikit_learn_on_the_other_pixels(
    random_masks: np.ndarray,
) -> None:
    pixels = random_masks.ravel()
    pixels = pixels[pixels != 0]
    reference = compute_class_weight("balanced", classes=np.arange(1, 5), y=pixels)
    weights = stats.class_weights(random_masks, "balanced", ignore_background=True)
    assert weights[0] == 0
    np.testing.assert_allclose(weights[1:], reference, rtol=1e-6)


def test_balanced_is_inverse_frequency_over_the_number_of_classes(random_masks: np.ndarray) -> None:
    np.testing.assert_allclose(
        stats.class_weights(random_masks, "balanced") * 5,
        stats.class_weights(random_masks, "inverse_frequency"),
        rtol=1e-6,
    )


@pytest.mark.parametrize(
    ("masks", "message"),
    [
        (np.zeros((4, 4), dtype=np.uint8), r"\(N, H, W\)"),
        (np.zeros((0, 4, 4), dtype=np.uint8), "at least one pixel"),
        (np.zeros((1, 2, 2), dtype=np.float32), "integer dtype"),
        (np.zeros((1, 2, 2), dtype=bool), "integer dtype"),
        (np.full((1, 2, 2), 5, dtype=np.uint8), r"0\.\.4"),
        (np.full((1, 2, 2), -1, dtype=np.int64), r"0\.\.4"),
    ],
)
def test_bad_masks_are_refused(masks: np.ndarray, message: str) -> None:
    for function in (
        stats.pixel_counts,
        stats.presence,
        stats.frequency_table,
        stats.class_weights,
    ):
        with pytest.raises(ValueError, match=message):
            function(masks)


def test_bad_weight_options_are_refused() -> None:
    with pytest.raises(ValueError, match="known methods"):
        stats.class_weights(MASKS, "inverse")
    for cap in (0, -1.0, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="cap must be a positive number"):
            stats.class_weights(MASKS, cap=cap)


def test_a_missing_class_is_refused_unless_it_is_ignored_background() -> None:
    no_big_rock = np.array([[[0, 1], [2, 3]]], dtype=np.uint8)
    with pytest.raises(ValueError, match="Big Rock"):
        stats.class_weights(no_big_rock)
    no_background = np.array([[[1, 2], [3, 4]]], dtype=np.uint8)
    with pytest.raises(ValueError, match="Background"):
        stats.class_weights(no_background)
    np.testing.assert_allclose(
        stats.class_weights(no_background, ignore_background=True), [0, 1, 1, 1, 1]
    )


def test_loss_shares_by_hand_and_for_balanced_weights(random_masks: np.ndarray) -> None:
    np.testing.assert_allclose(stats.loss_shares(MASKS, np.ones(5)), np.array([2, 4, 1, 4, 1]) / 12)
    # weights 0, 1, 2, 0, 2 -> weighted counts 0, 4, 2, 0, 2 out of 8
    np.testing.assert_allclose(stats.loss_shares(MASKS, [0, 1, 2, 0, 2]), [0, 0.5, 0.25, 0, 0.25])
    np.testing.assert_allclose(
        stats.loss_shares(random_masks, stats.class_weights(random_masks)), np.full(5, 0.2)
    )
    balanced_without = stats.class_weights(random_masks, ignore_background=True)
    np.testing.assert_allclose(
        stats.loss_shares(random_masks, balanced_without), [0, 0.25, 0.25, 0.25, 0.25]
    )


@pytest.mark.parametrize(
    "weights", [np.ones(4), [1, 1, 1, 1, -1], [1, 1, 1, 1, np.nan], np.zeros(5)]
)
def test_loss_shares_refuse_bad_weights(weights) -> None:
    with pytest.raises(ValueError, match="weights"):
        stats.loss_shares(MASKS, weights)


def test_the_published_real_counts_add_up_to_the_cleaned_images() -> None:
    counts = stats.PUBLISHED_REAL_COUNTS
    assert counts.sum() == stats.PUBLISHED_REAL_IMAGES * 64 * 128
    shares = np.round(100 * counts / counts.sum(), 2)  # the shares the same sources print
    assert shares.tolist() == [24.31, 33.90, 23.28, 18.38, 0.13]
