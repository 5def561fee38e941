"""Charts of the class statistics: the bars drawn are the numbers computed."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from marslib.core.classes import PALETTE  # noqa: E402
from marslib.data import stats  # noqa: E402
from marslib.figures import charts

# Pixels per class 2, 4, 1, 4, 1 (12 in all);
# image 0 holds {0, 1, 2}, image 1 {1, 3, 4}, image 2 {1}.
MASKS = np.array(
    [
        [[0, 0, 1], [1, 1, 2]],
        [[3, 3, 3], [3, 4, 1]],
        [[1, 1, 1], [1, 1, 1]],
    ],
    dtype=np.uint8,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _heights(ax) -> list[float]:
    return [patch.get_height() for patch in ax.patches]


def test_pixel_frequency_figure_draws_the_shares_in_class_colours() -> None:
    figure = charts.pixel_frequency_figure(MASKS, title="tiny")
    linear, log = figure.axes
    expected = [100 * 2 / 18, 100 * 10 / 18, 100 / 18, 100 * 4 / 18, 100 / 18]
    np.testing.assert_allclose(_heights(linear), expected)
    np.testing.assert_allclose(_heights(log), expected)
    assert log.get_yscale() == "log" and linear.get_yscale() == "linear"
    np.testing.assert_allclose([p.get_facecolor()[:3] for p in linear.patches], PALETTE, atol=1e-6)
    assert [t.get_text() for t in linear.texts][1] == f"{100 * 10 / 18:.2f}%"


def test_presence_figure_draws_image_shares_and_class_counts() -> None:
    left, right = charts.presence_figure(MASKS).axes
    np.testing.assert_allclose(_heights(left), 100 * np.array([1, 3, 1, 1, 1]) / 3)
    np.testing.assert_allclose(_heights(right), [1, 0, 2, 0, 0])


def test_weights_figure_draws_weights_and_loss_shares() -> None:
    balanced = stats.class_weights(MASKS)
    left, right = charts.weights_figure(MASKS, {"none": np.ones(5), "balanced": balanced}).axes
    # seaborn draws the bars hue by hue: first every class of "none", then of "balanced"
    np.testing.assert_allclose(_heights(left)[:10], np.r_[np.ones(5), balanced], rtol=1e-6)
    np.testing.assert_allclose(
        _heights(right)[:10],
        100 * np.r_[stats.pixel_frequencies(MASKS), np.full(5, 0.2)],
        rtol=1e-6,
    )
    with pytest.raises(ValueError, match="at least one"):
        charts.weights_figure(MASKS, {})


def test_threshold_figure_draws_the_curve() -> None:
    curve = pd.DataFrame(
        {
            "threshold": [0.1, 0.2],
            "candidates": [1, 3],
            "precision": [1.0, 2 / 3],
            "recall": [0.5, 1.0],
        }
    )
    figure = charts.threshold_figure(curve, chosen=0.2)
    ax = figure.axes[0]
    precision, recall = ax.get_lines()[:2]
    np.testing.assert_allclose(precision.get_ydata(), [1.0, 2 / 3])
    np.testing.assert_allclose(recall.get_ydata(), [0.5, 1.0])
    np.testing.assert_allclose(figure.axes[1].get_lines()[0].get_ydata(), [1, 3])
