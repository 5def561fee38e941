"""Distances to the nearest border and accuracy by distance, on masks counted by hand."""

from __future__ import annotations

import numpy as np
import pytest

from marslib.analysis import borders


def _halves() -> np.ndarray:
    mask = np.ones((1, 4, 6), dtype=np.uint8)
    mask[:, :, 3:] = 3
    return mask


def test_distance_to_border_by_hand() -> None:
    distances = borders.distance_to_border(_halves())
    np.testing.assert_array_equal(distances[0], np.tile([3, 2, 1, 1, 2, 3], (4, 1)))
    island = np.ones((1, 5, 5), dtype=np.uint8)
    island[0, 2, 2] = 4
    ring = borders.distance_to_border(island)[0]
    assert (
        ring[2, 2] == 1 and ring[1, 1] == 1 and ring[0, 0] == 2
    )  # diagonal neighbours count (chessboard)
    uniform = borders.distance_to_border(np.full((2, 3, 4), 2, dtype=np.uint8))
    assert (uniform > 3 + 4 - 1).all()  # no border at all: farther than anything in the image


def test_accuracy_by_distance_bins_scored_pixels() -> None:
    truth = _halves()
    wrong_on_border = truth.copy()
    wrong_on_border[:, :, 2:4] = 2  # the two columns along the border
    truth_with_background = truth.copy()
    truth_with_background[:, 0, :] = 0  # a background row: not scored
    table = borders.accuracy_by_distance(
        truth_with_background, {"edge errors": wrong_on_border}, edges=(1, 2)
    )
    assert list(table.index) == ["1", "2", "> 2"]
    # scored rows 1..3. Row 1 touches the background row: all 6 at distance 1. Row 2: the 2 border
    # pixels at 1, the other 4 at 2 (from the border or the background row).
    # Row 3: 2 at 1, 2 at 2, 2 at 3.
    assert table["pixels"].tolist() == [6 + 2 + 2, 4 + 2, 2]
    assert table.loc["1", "edge errors"] == pytest.approx(
        4 / 10
    )  # row 1's four non-border pixels are right
    assert table.loc["2", "edge errors"] == 1.0 and table.loc["> 2", "edge errors"] == 1.0


def test_bin_labels_and_errors() -> None:
    table = borders.accuracy_by_distance(_halves(), {}, edges=(1, 2, 4, 8))
    assert list(table.index) == ["1", "2", "3-4", "5-8", "> 8"]
    assert table["pixels"].tolist() == [8, 8, 8, 0, 0]
    with pytest.raises(ValueError, match="increasing"):
        borders.accuracy_by_distance(_halves(), {}, edges=(2, 2))
    with pytest.raises(ValueError, match="shape"):
        borders.accuracy_by_distance(_halves(), {"bad": _halves()[:, :2]})
    with pytest.raises(ValueError, match="integer stack"):
        borders.distance_to_border(np.zeros((4, 6)))
