"""The reference runs at a glance: one row per named run, from the records shipped with the book.

    python -m marslib experiments references     # prints `reference_table()`

A named run's references are its records at the reference profile on the embedded synthetic set,
one per seed of `marslib.training.registry.SEEDS` (`marslib.training.run_records.REFERENCES_DIR`);
the table gives the mean and the standard deviation over the seeds shipped. Reading the table
imports no TensorFlow and loads no data.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from marslib.data import loading
from marslib.training import registry, run_records

COLUMNS: tuple[str, ...] = (
    "group",
    "seeds",
    "epochs",
    "minutes",
    "val score",
    "val SD",
    "test score",
    "test SD",
    "Big Rock IoU",
    "Big Rock SD",
    "end SD",
)
# How many last epochs the "end SD" columns measure the validation curve's swing over.
END_EPOCHS = 5


def _scores(record: run_records.RunRecord) -> dict[str, float]:
    """A record's validation and public-test score (the competition mIoU, or the background IoU
    of a background-task run), its test Big Rock IoU and its training minutes (NaN: unknown)."""
    score = "miou" if record.experiment.task == "terrain" else "background IoU"
    val, test = record.metrics["val"] or {}, record.metrics["test"] or {}
    return {
        "val": val.get(score, np.nan),
        "test": test.get(score, np.nan),
        "Big Rock": test.get("per_class_iou", {}).get("Big Rock", np.nan),
        "minutes": record.provenance["train_seconds"] / 60,
        "end SD": end_spread(record),
    }


def end_spread(record: run_records.RunRecord, epochs: int = END_EPOCHS) -> float:
    """How much a run's validation score still moved at its end: the standard deviation (ddof 1)
    of its last `epochs` epochs' validation metric (NaN without validation)."""
    column = next(
        (c for c in record.history.columns if c.startswith("val_") and c != "val_loss"), None
    )
    if column is None:
        return np.nan
    return float(record.history[column].tail(epochs).std(ddof=1))


def reference_table(names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per named run (default: every one, in the registry's order).

    Returns:
        DataFrame indexed by run name with the COLUMNS: its registry group; how many of its
        seeds are shipped at the current reference recipe; the epochs each trained; the mean
        training minutes; the mean and standard deviation (over the seeds, ddof 1: NaN with
        one seed) of the validation and public-test score and of the test Big Rock IoU; the mean
        `end_spread` (how much the validation score still moved over the last five epochs). NaN
        where unknown (a run with no seed shipped has NaN in every column but its group).
    """
    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    rows = []
    for name in names if names is not None else registry.names():
        row: dict[str, object] = {"run": name, "group": registry.RUNS[name].group}
        found = []
        for seed in registry.SEEDS:
            experiment = registry.get(name, "reference", seed).resolved()
            folder = run_records.reference_directory(experiment, fingerprint)
            if run_records.is_complete(folder):
                found.append(_scores(run_records.load_record(folder)))
                row["epochs"] = experiment.epochs
        row["seeds"] = len(found)
        if found:
            seeds = pd.DataFrame(found)
            row |= {
                "minutes": seeds["minutes"].mean(),
                "val score": seeds["val"].mean(),
                "val SD": seeds["val"].std(ddof=1),
                "test score": seeds["test"].mean(),
                "test SD": seeds["test"].std(ddof=1),
                "Big Rock IoU": seeds["Big Rock"].mean(),
                "Big Rock SD": seeds["Big Rock"].std(ddof=1),
                "end SD": seeds["end SD"].mean(),
            }
        rows.append(row)
    table = pd.DataFrame(rows, columns=["run", *COLUMNS]).set_index("run")
    numbers = [column for column in COLUMNS if column != "group"]
    table[numbers] = table[numbers].astype(float)
    return table.astype({"seeds": int})
