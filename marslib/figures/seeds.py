"""How far a seed moves a run, how large a gap a few seeds can tell, and the schedule that gives
a run a stable end: three figures.

Each function returns the matplotlib `Figure` it drew, so a chapter can show it and a test can
read the marks back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from marslib.analysis import intervals

SEED_COLOUR, MEAN_COLOUR = "#4c72b0", "black"


def seed_spread(
    scores: Mapping[str, Sequence[float]], *, label: str = "public-test mIoU"
) -> plt.Figure:
    """One row per run: a dot per seed's score and a bar at their mean.

    Args:
        scores: run name -> each seed's score (e.g. the test mIoU of each seed's record).
        label: the x axis' label.
    """
    if not scores or any(len(values) == 0 for values in scores.values()):
        raise ValueError(f"every run needs at least one seed's score, got {dict(scores)}")
    names = list(scores)
    figure, ax = plt.subplots(figsize=(7.5, 0.45 * len(names) + 1.8))
    for row, name in enumerate(names):
        values = np.asarray(scores[name], dtype=float)
        ax.scatter(values, np.full(len(values), row), color=SEED_COLOUR, s=30, zorder=3)
        ax.plot([values.mean()] * 2, [row - 0.3, row + 0.3], color=MEAN_COLOUR, linewidth=2)
    ax.set_yticks(range(len(names)), names)
    ax.invert_yaxis()
    ax.set_xlabel(label)
    ax.grid(axis="x", alpha=0.3)
    handles = [
        plt.Line2D([], [], marker="o", linestyle="", color=SEED_COLOUR, label="one seed"),
        plt.Line2D([], [], color=MEAN_COLOUR, linewidth=2, label="mean of the seeds"),
    ]
    # Below the axes, where no seed's dot can hide behind it.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.5), ncol=2, fontsize=8)
    figure.tight_layout()
    return figure


def resolvable_gaps(seed_sds: Mapping[str, float], max_seeds: int = 10) -> plt.Figure:
    """The smallest gap between two recipes that an interval can tell from zero, against the
    number of seeds a recipe, for each seed standard deviation given
    (`marslib.analysis.intervals.resolvable_gap`).

    Args:
        seed_sds: a label -> a seed standard deviation (e.g. a run's measured spread).
        max_seeds: the largest number of seeds drawn.
    """
    if not seed_sds or max_seeds < 2:
        raise ValueError(f"give at least one spread and max_seeds >= 2, got {dict(seed_sds)}")
    seeds = np.arange(2, max_seeds + 1)
    figure, ax = plt.subplots(figsize=(6.5, 3.6))
    for label, spread in seed_sds.items():
        gaps = [intervals.resolvable_gap(spread, int(n)) for n in seeds]
        ax.plot(seeds, gaps, marker="o", label=f"{label} (seed SD {spread:.3f})")
    ax.set_xlabel("seeds a recipe")
    ax.set_ylabel("smallest gap an interval can tell")
    ax.set_xticks(seeds)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    figure.tight_layout()
    return figure


def schedule_curves(runs: Mapping[str, pd.DataFrame], metric: str = "val_miou") -> plt.Figure:
    """Two panels over the epochs of each run: the learning rate, and a validation metric.

    Args:
        runs: a label -> a run's history (`RunRecord.history`: columns epoch, learning_rate and
            `metric`), e.g. the previous recipe's record and the current one's.
        metric: the history column of the right panel.
    """
    if not runs:
        raise ValueError("give at least one run's history")
    figure, (rate_ax, metric_ax) = plt.subplots(1, 2, figsize=(10, 3.4))
    for label, history in runs.items():
        missing = {"epoch", "learning_rate", metric} - set(history.columns)
        if missing:
            raise ValueError(f"the history of {label!r} has no column {sorted(missing)}")
        epochs = history["epoch"].to_numpy() + 1
        rate_ax.plot(epochs, history["learning_rate"], label=label)
        metric_ax.plot(epochs, history[metric], marker=".", label=label)
    rate_ax.set(xlabel="epoch", ylabel="learning rate (at the epoch's start)")
    metric_ax.set(xlabel="epoch", ylabel=metric.replace("_", " "))
    for ax in (rate_ax, metric_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    figure.tight_layout()
    return figure
