"""The seed figures: the marks drawn are the scores given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from marslib.analysis import intervals
from marslib.figures import seeds


def test_seed_spread_draws_each_seed_and_its_mean() -> None:
    figure = seeds.seed_spread({"unet": [0.60, 0.63, 0.65], "psp": [0.55, 0.57]})
    ax = figure.axes[0]
    dots = [collection.get_offsets() for collection in ax.collections]
    seeds_drawn = {tuple(np.round(d[:, 0], 3)) for d in dots if len(d) > 1}
    assert seeds_drawn == {(0.60, 0.63, 0.65), (0.55, 0.57)}
    means = sorted(round(line.get_xdata()[0], 4) for line in ax.lines)
    assert means == [0.56, pytest.approx(0.6267, abs=1e-4)]
    assert [len(d) for d in dots] == [3, 2]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["unet", "psp"]
    with pytest.raises(ValueError, match="at least one seed"):
        seeds.seed_spread({"unet": []})


def test_resolvable_gaps_draws_the_interval_half_width_for_each_spread() -> None:
    figure = seeds.resolvable_gaps({"U-Net": 0.023, "PSP": 0.01}, max_seeds=5)
    lines = figure.axes[0].lines
    assert [list(line.get_xdata()) for line in lines] == [[2, 3, 4, 5]] * 2
    assert lines[0].get_ydata()[1] == pytest.approx(intervals.resolvable_gap(0.023, 3))
    assert lines[1].get_ydata()[3] == pytest.approx(intervals.resolvable_gap(0.01, 5))
    assert list(lines[0].get_ydata()) == sorted(lines[0].get_ydata(), reverse=True)


def test_schedule_curves_draw_each_runs_rate_and_metric() -> None:
    import pandas as pd

    before = pd.DataFrame(
        {"epoch": [0, 1, 2], "learning_rate": [1e-3] * 3, "val_miou": [0.2, 0.4, 0.35]}
    )
    after = pd.DataFrame(
        {"epoch": [0, 1, 2], "learning_rate": [1e-3, 5e-4, 0.0], "val_miou": [0.2, 0.4, 0.45]}
    )
    figure = seeds.schedule_curves({"constant": before, "decay": after})
    rate, metric = figure.axes
    assert [list(line.get_ydata()) for line in rate.lines] == [[1e-3] * 3, [1e-3, 5e-4, 0.0]]
    assert list(metric.lines[1].get_ydata()) == [0.2, 0.4, 0.45]
    assert list(metric.lines[0].get_xdata()) == [1, 2, 3]
    with pytest.raises(ValueError, match="no column"):
        seeds.schedule_curves({"x": before.drop(columns="learning_rate")})
