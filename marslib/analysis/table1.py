"""The report's Table 1 beside ours, and the pairs of rows that differ in one ingredient.

    table = table1.table1(training.records())      # our Table 1, the report's numbers beside
    table1.results_table(training.records())       # every run, with per-class IoU and provenance
    table1.one_change_pairs(table1.report_table1(), "test mIoU")

The report claims that "the main improvement in performances were due to the right choice of loss
and of the dataset, rather than the model". `one_change_pairs` tests it: it lists the pairs of rows
of a results table that differ in one ingredient only (the model, or the data and loss) with the
score gained; the registry's ablation runs (`marslib.training.registry.ABLATION`) turn the baseline
U-Net and the best model into a 2 x 2 design, each model with each recipe. `class_weights_used`
gives the class weights a weighted run trains with, so a chapter prints them instead of typing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import combinations
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marslib import datasets, losses, models
from marslib.core.classes import BACKGROUND, SCORED_NAMES

if TYPE_CHECKING:
    from marslib.data.loading import MarsData
    from marslib.training.experiment import Experiment
    from marslib.training.run_records import RunRecord

# The report's Table 1 (validation and Kaggle mean IoU, as fractions),
# keyed by our experiment names.
REPORT_ROWS: dict[str, tuple[str, str, str, float, float]] = {
    "unet_baseline": ("Baseline U-Net", "Cleaned", "SCCE", 0.4523, 0.4301),
    "deeplabv3": ("DeepLabV3", "Cleaned", "SCCE", 0.5200, 0.4877),
    "wnet": ("W-Net", "Cleaned", "Weighted SCCE", 0.5749, 0.5134),
    "pspnet": ("PSP", "Cleaned", "Weighted SCCE", 0.7271, 0.6413),
    "deeplabv3_bigrock": ("DeepLabV3", "Aug. Big Rocks", "Weighted SCCE", 0.7289, 0.6912),
    "attention_psp": ("Attention + PSP", "Aug. Big Rocks", "W. Focal+SCCE", 0.7288, 0.7178),
}
SCORE_COLUMNS: tuple[str, ...] = (
    "val mIoU",
    "test mIoU",
    *(f"{name} IoU" for name in SCORED_NAMES),
)


def report_table1() -> pd.DataFrame:
    """The report's Table 1 as they published it (their numbers, not ours).

    Returns:
        DataFrame indexed by our experiment names with columns model, dataset, loss,
        "val mIoU" and "test mIoU" (their Kaggle score), the scores as fractions.
    """
    return pd.DataFrame.from_dict(
        REPORT_ROWS, orient="index", columns=["model", "dataset", "loss", "val mIoU", "test mIoU"]
    ).rename_axis("experiment")


def table1(records: Sequence[RunRecord], *, per_class: str = "auto") -> pd.DataFrame:
    """Our Table 1 in the report's form, with per-class IoU and the report's numbers beside.

    Args:
        records: finished runs, one row each, in the order given.
        per_class: split of the per-class IoU columns ("val", "test", or "auto": see
            `results_table`).

    Returns:
        DataFrame indexed by experiment name with columns model, dataset, loss, training images,
        seeds, val mIoU, test mIoU (the test set's public quarter; NaN where the test labels are
        unknown: the real file), Soil/Bedrock/Sand/Big Rock IoU (means over the seeds a record
        carries: `results_table`), "report val mIoU" and "report Kaggle mIoU" (NaN for a run
        that is not one of the report's rows).
    """
    if not records:
        raise ValueError(
            "no run records given: train the experiments first (marslib.training.loop.run)"
        )
    ours = results_table(records, per_class=per_class)
    theirs = report_table1()
    table = pd.DataFrame(
        {
            "model": [models.label(r.experiment.model) for r in records],
            "dataset": [datasets.get(r.experiment.variant).label for r in records],
            "loss": [losses.label(r.experiment.loss) for r in records],
            "training images": [int(r.provenance["train_images"]) for r in records],
            "seeds": ours["seeds"].to_list(),
        },
        index=ours.index,
    )
    table[list(SCORE_COLUMNS)] = ours[list(SCORE_COLUMNS)]
    table["report val mIoU"] = theirs["val mIoU"].reindex(table.index)
    table["report Kaggle mIoU"] = theirs["test mIoU"].reindex(table.index)
    return table


def one_change_pairs(
    table: pd.DataFrame,
    score: str = "test mIoU",
    groups: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """Pairs of rows that differ in exactly one group of ingredients, with the score gained.

    Args:
        table: one row per run (e.g. `table1` or `report_table1`), in the order a reader goes
            from one row to the next: each pair runs from the earlier row to the later one.
        score: the column compared.
        groups: ingredient name -> the columns it covers (default: "model" -> [model];
            "data + loss" -> [dataset, loss]). Two rows differ in a group when any of its
            columns differ.

    Returns:
        DataFrame with columns changed (the group), from, to (index labels), from score,
        to score and gain (to score - from score); empty when no pair differs in one group only.
    """
    groups = (
        dict(groups)
        if groups is not None
        else {"model": ["model"], "data + loss": ["dataset", "loss"]}
    )
    needed = [score, *(column for columns in groups.values() for column in columns)]
    missing = [column for column in needed if column not in table.columns]
    if missing:
        raise ValueError(f"table has no column(s) {missing}; it has {list(table.columns)}")
    rows = []
    for first, second in combinations(range(len(table)), 2):
        a, b = table.iloc[first], table.iloc[second]
        changed = [name for name, columns in groups.items() if any(a[c] != b[c] for c in columns)]
        if len(changed) == 1:
            rows.append(
                {
                    "changed": changed[0],
                    "from": table.index[first],
                    "to": table.index[second],
                    "from score": a[score],
                    "to score": b[score],
                    "gain": b[score] - a[score],
                }
            )
    return pd.DataFrame(rows, columns=["changed", "from", "to", "from score", "to score", "gain"])


def main_effect_weights(edges: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Each ingredient's main effect (the mean gain of its one-change pairs) as weights on runs.

    Args:
        edges: `one_change_pairs`' table (columns changed, from, to).

    Returns:
        ingredient -> {run name: weight}: the main effect is the weighted sum of the runs'
        scores (+1/k for each pair's "to" run, -1/k for its "from" run, k the ingredient's
        pairs; runs whose weights cancel are left out).

    >>> edges = pd.DataFrame({"changed": ["model", "model"], "from": ["a", "c"], "to": ["b", "d"]})
    >>> main_effect_weights(edges)
    {'model': {'b': 0.5, 'a': -0.5, 'd': 0.5, 'c': -0.5}}
    """
    effects: dict[str, dict[str, float]] = {}
    for ingredient, pairs in edges.groupby("changed", sort=False):
        weights: dict[str, float] = {}
        for start, end in zip(pairs["from"], pairs["to"], strict=True):
            weights[end] = weights.get(end, 0.0) + 1 / len(pairs)
            weights[start] = weights.get(start, 0.0) - 1 / len(pairs)
        effects[str(ingredient)] = {name: w for name, w in weights.items() if w != 0}
    return effects


def background_in_loss(experiment: Experiment) -> str:
    """How much of the experiment's loss sees the background pixels.

    A "weighted_" term of a loss spec uses the class weights, the other terms ignore them
    (`marslib.losses.get`), so weights without background take background out of the weighted
    terms only: "weighted_focal+scce" still learns background through its plain SCCE term.

    Returns:
        "no" (every term is weighted and the weights leave background out), "partly" (some
        terms do, others are unweighted) or "yes" (no term leaves it out).
    """
    weights = experiment.class_weights
    if weights is None:
        leaves_out = False
    elif isinstance(weights, Mapping):
        leaves_out = bool(weights.get("ignore_background", False))
    else:
        leaves_out = weights[BACKGROUND] == 0
    weighted = [
        name.startswith(losses.WEIGHTED_PREFIX) for _, name in losses.terms(experiment.loss)
    ]
    if not leaves_out or not any(weighted):
        return "yes"
    return "no" if all(weighted) else "partly"


def class_weights_used(experiment: Experiment, data: MarsData) -> np.ndarray | None:
    """The per-class loss weights the experiment trains with, computed as its training computes
    them: from the masks of its dataset variant built on its training split (a subset of
    `train_limit` images where it has one), or as given.

    Returns:
        float32 array (5,) indexed by class, or None for an unweighted experiment.
    """
    from marslib.training import splits

    if experiment.class_weights is None:
        return None
    return splits.loss_weights(experiment, splits.training_split(experiment, data).train_masks)


def _mean_scores(seeds: Sequence[RunRecord], per_class: str) -> dict[str, float | None]:
    """The mean over `seeds` of val mIoU, test mIoU and the per-class IoU on `per_class`
    (None where the records have no such split)."""

    def mean(values: list[float | None]) -> float | None:
        return None if any(v is None for v in values) else float(np.mean(values))

    scores = {
        "val mIoU": mean([r.val_miou for r in seeds]),
        "test mIoU": mean([r.test_miou for r in seeds]),
    }
    for name in SCORED_NAMES:
        split = [(r.metrics[per_class] or {"per_class_iou": {}}) for r in seeds]
        scores[f"{name} IoU"] = mean([found["per_class_iou"].get(name) for found in split])
    return scores


def results_table(records: Sequence[RunRecord], *, per_class: str = "auto") -> pd.DataFrame:
    """One row per run, in the report's Table 1 form plus per-class IoU and provenance.

    Args:
        records: finished runs (`marslib.training.run` or `marslib.training.records`).
        per_class: which split the per-class IoU columns come from: "val", "test", or "auto"
            (test where every run has test scores, else validation).

    Returns:
        DataFrame indexed by experiment name with columns model, dataset, loss, seeds, val mIoU,
        test mIoU (on the test set's public quarter), "<class> IoU" for Soil, Bedrock, Sand and
        Big Rock, per-class split, parameters, training time (s), epochs, data source, profile,
        device. Scores are NaN where a run has no such split. A record that carries its run's
        seeds (`RunRecord.seed_records`) gives the mean over them of every score and of the
        training time, "seeds" how many; else its own ("seeds" 1).
    """
    if per_class not in ("auto", "val", "test"):
        raise ValueError(f"per_class must be 'auto', 'val' or 'test', got {per_class!r}")
    if per_class == "auto":
        per_class = "test" if records and all(r.metrics["test"] for r in records) else "val"
    rows = []
    for record in records:
        experiment, found = record.experiment, record.metrics
        seeds = record.seed_records()
        rows.append(
            {
                "experiment": experiment.name,
                "model": experiment.model,
                "dataset": experiment.variant,
                "loss": experiment.loss,
                "seeds": len(seeds),
                **_mean_scores(seeds, per_class),
                "per-class split": per_class,
                "parameters": found["parameters"],
                "training time (s)": float(np.mean([r.provenance["train_seconds"] for r in seeds])),
                "epochs": found["epochs_run"],
                "data source": record.provenance["data_source"],
                "profile": experiment.profile,
                "device": record.provenance["device"],
            }
        )
    columns = [
        "experiment",
        "model",
        "dataset",
        "loss",
        "seeds",
        "val mIoU",
        "test mIoU",
        *(f"{name} IoU" for name in SCORED_NAMES),
        "per-class split",
        "parameters",
        "training time (s)",
        "epochs",
        "data source",
        "profile",
        "device",
    ]
    table = pd.DataFrame(rows, columns=columns).set_index("experiment")
    score_columns = ["val mIoU", "test mIoU", *(f"{name} IoU" for name in SCORED_NAMES)]
    table[score_columns] = table[score_columns].astype(float)
    return table
