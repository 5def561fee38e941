"""The reference runs at a glance: one row per named run, from the records shipped with the book.

    python -m marslib experiments references     # prints `reference_table()`

A reference is the named run's record at the reference profile on the embedded synthetic set
(`marslib.training.run_records.REFERENCES_DIR`); a run without one yet gets a row that says so.
Reading the table imports no TensorFlow and loads no data.
"""

from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from marslib.core.classes import SCORED_NAMES
from marslib.data import loading
from marslib.training import registry, run_records

COLUMNS: tuple[str, ...] = (
    "group",
    "status",
    "best epoch",
    "epochs run",
    "minutes",
    "val score",
    "test score",
    *(f"{name} IoU" for name in SCORED_NAMES),
)


def reference_table(names: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per named run (default: every one, in the registry's order).

    Returns:
        DataFrame indexed by run name with the COLUMNS: its registry group; "shipped" or
        "not trained yet"; the best (kept) epoch, counted from 1, and the epochs run; training
        minutes; the validation and public-test score (the competition mIoU, or the background
        IoU of a background-task run); and the per-class test IoU (terrain runs). NaN where
        unknown.
    """
    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    rows = []
    for name in names if names is not None else registry.names():
        experiment = registry.get(name, "reference")
        folder = run_records.reference_directory(experiment, fingerprint)
        row: dict[str, object] = {"run": name, "group": registry.RUNS[name].group}
        if not run_records.is_complete(folder):
            rows.append(row | {"status": "not trained yet"})
            continue
        record = run_records.load_record(folder)
        found = record.metrics
        score = "miou" if experiment.task == "terrain" else "background IoU"
        test = found["test"] or {}
        rows.append(
            row
            | {
                "status": "shipped",
                "best epoch": found["best_epoch"] + 1,
                "epochs run": found["epochs_run"],
                "minutes": record.provenance["train_seconds"] / 60,
                "val score": (found["val"] or {}).get(score),
                "test score": test.get(score),
                **{f"{c} IoU": test.get("per_class_iou", {}).get(c) for c in SCORED_NAMES},
            }
        )
    table = pd.DataFrame(rows, columns=["run", *COLUMNS]).set_index("run")
    numbers = [column for column in COLUMNS if column not in ("group", "status")]
    table[numbers] = table[numbers].astype(float)
    return table
