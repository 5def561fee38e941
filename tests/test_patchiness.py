"""Patchiness measures on masks small enough to count by hand."""

from __future__ import annotations

import numpy as np
import pytest

from marslib.analysis import patchiness


def _halves() -> np.ndarray:
    """One 4x8 image: soil on the left half, sand on the right."""
    mask = np.ones((1, 4, 8), dtype=np.uint8)
    mask[:, :, 4:] = 3
    return mask


def _checkerboard() -> np.ndarray:
    return (np.indices((4, 4)).sum(axis=0) % 2 + 1).astype(np.uint8)[None]


def test_region_counts_by_hand() -> None:
    uniform = np.full((1, 4, 8), 2, dtype=np.uint8)
    assert patchiness.region_counts(uniform).tolist() == [1]
    assert patchiness.region_counts(_halves()).tolist() == [2]
    assert patchiness.region_counts(_checkerboard()).tolist() == [
        16
    ]  # no two equal pixels share a side
    diagonal = np.array([[[1, 2], [2, 1]]], dtype=np.uint8)
    assert patchiness.region_counts(diagonal).tolist() == [
        4
    ]  # corners do not connect (4-neighbourhood)


def test_regions_never_connect_across_images_and_where_cuts_them() -> None:
    stack = np.concatenate([_halves(), _halves(), np.full((1, 4, 8), 1, dtype=np.uint8)])
    assert patchiness.region_counts(stack).tolist() == [2, 2, 1]
    where = np.ones(stack.shape, dtype=bool)
    where[2, 2, :] = False  # a row of excluded pixels cuts the uniform image in two
    assert patchiness.region_counts(stack, where).tolist() == [2, 2, 2]


def test_boundary_density_by_hand() -> None:
    # 4 rows x 7 left-right pairs + 3 x 8 up-down pairs = 52 pairs;
    # the 4 pairs across the middle differ
    assert patchiness.boundary_density(_halves()).tolist() == pytest.approx([4 / 52])
    assert patchiness.boundary_density(_checkerboard()).tolist() == [1.0]
    where = np.zeros(_halves().shape, dtype=bool)
    where[:, 0, :] = True  # only the top row: 7 pairs, 1 differs
    assert patchiness.boundary_density(_halves(), where).tolist() == pytest.approx([1 / 7])
    assert np.isnan(patchiness.boundary_density(_halves(), np.zeros((1, 4, 8), dtype=bool))[0])


def test_table_compares_predictions_with_the_truth_on_scored_pixels() -> None:
    truth = _halves()
    truth[:, 0, :] = 0  # a background row: ignored when scored_only
    speckled = truth.copy()
    speckled[:, 2, 1] = 2  # one island of bedrock inside the soil
    noisy_background = truth.copy()
    noisy_background[:, 0, ::2] = 4  # changes only pixels whose truth is background
    result = patchiness.table(truth, {"speckled": speckled, "background noise": noisy_background})
    assert result.loc["truth", "regions per image"] == 2
    assert result.loc["speckled", "regions per image"] == 3
    assert result.loc["speckled", "regions / truth's"] == pytest.approx(1.5)
    assert result.loc["background noise"].tolist() == result.loc["truth"].tolist()
    everywhere = patchiness.table(truth, {"background noise": noisy_background}, scored_only=False)
    assert (
        everywhere.loc["background noise", "regions per image"]
        > everywhere.loc["truth", "regions per image"]
    )


def test_bad_input_is_refused() -> None:
    with pytest.raises(ValueError, match="integer stack"):
        patchiness.region_counts(np.ones((4, 8), dtype=np.uint8))
    with pytest.raises(ValueError, match="0..4"):
        patchiness.boundary_density(np.full((1, 2, 2), 7, dtype=np.uint8))
    with pytest.raises(ValueError, match="boolean"):
        patchiness.region_counts(_halves(), np.ones((1, 4, 8), dtype=np.uint8))
