"""What a comparison of runs supports: the margin, convergence, and the sentences built on them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from marslib.analysis import verdicts
from marslib.training import registry
from marslib.training.run_records import RunRecord


def _record(
    name: str,
    val: float,
    *,
    epochs_run: int,
    best_epoch: int,
    profile: str = "quick",
    epochs: int | None = None,
    patience: int | None = None,
    source: str = "synthetic",
):
    """A record of the named run at `profile` (its epochs and patience, or those given: the
    previous reference recipe was 80 epochs with patience 10), resolved as a record's config is."""
    experiment = registry.get(name, profile).resolved()
    experiment = dataclasses.replace(
        experiment,
        epochs=epochs or experiment.epochs,
        patience=experiment.patience if patience is None else patience,
    )
    split = {"miou": val, "per_class_iou": {}, "images": 10}
    return RunRecord(
        directory=Path("/nowhere") / name,
        experiment=experiment,
        history=pd.DataFrame({"epoch": range(epochs_run)}),
        metrics={
            "val": split,
            "test": None,
            "best_epoch": best_epoch,
            "epochs_run": epochs_run,
            "parameters": 1000,
        },
        provenance={"data_source": source},
    )


# The previous reference recipe: up to 80 epochs, early stopping after 10 without progress.
PREVIOUS = {"profile": "reference", "epochs": 80, "patience": 10}


def test_larger_reads_gaps_under_the_margin_as_level() -> None:
    assert verdicts.larger(0.50, 0.47) is True
    assert verdicts.larger(0.47, 0.50) is False
    assert verdicts.larger(0.50, 0.49) is None
    assert verdicts.larger(0.50, 0.49, margin=0.005) is True


def test_the_recipe_beats_the_model_only_by_more_than_the_margin() -> None:
    assert verdicts.recipe_beats_model(0.10, 0.02) is True
    assert verdicts.recipe_beats_model(0.02, 0.10) is False
    assert verdicts.recipe_beats_model(-0.05, -0.10) is False  # ahead of the model, but it hurts
    assert verdicts.recipe_beats_model(0.03, 0.02) is None
    assert verdicts.recipe_beats_model(0.015, -0.01) is None  # larger, but not clearly positive


def test_a_quick_run_is_not_converged_and_an_early_stopped_one_is() -> None:
    quick = _record("unet_baseline", 0.3, epochs_run=5, best_epoch=4)
    assert quick.experiment.epochs == 5
    assert not verdicts.converged(quick)
    assert "not a converged run" in verdicts.training_state(quick)
    assert "still improving at its last epoch" in verdicts.training_state(quick)
    stopped = _record("unet_baseline", 0.5, epochs_run=38, best_epoch=27, **PREVIOUS)
    assert verdicts.converged(stopped)
    assert "early stopping ended it after 38 of at most 80" in verdicts.training_state(stopped)
    assert verdicts.stopped_short(quick) and not verdicts.stopped_short(stopped)
    fixed = _record("unet_baseline", 0.5, epochs_run=30, best_epoch=29, profile="reference")
    assert not verdicts.converged(fixed)  # the current recipe: a fixed budget by design
    assert not verdicts.stopped_short(fixed) and verdicts.finished_schedule(fixed)
    assert "trained its fixed budget of 30 epochs" in verdicts.training_state(fixed)
    assert not verdicts.finished_schedule(quick) and not verdicts.finished_schedule(stopped)
    cut = _record("unet_baseline", 0.5, epochs_run=12, best_epoch=11, profile="reference")
    assert not verdicts.finished_schedule(cut)  # a fixed budget not trained to its end


def test_compare_runs_names_the_leader_only_beyond_the_margin() -> None:
    # Runs of the current reference recipe: a fixed budget of 30 epochs, the last one kept.
    unet = _record("unet_baseline", 0.30, epochs_run=30, best_epoch=29, profile="reference")
    ahead = _record("deeplabv3", 0.36, epochs_run=30, best_epoch=27, profile="reference")
    level = _record("deeplabv3", 0.31, epochs_run=30, best_epoch=29, profile="reference")
    text = verdicts.compare_runs(unet, ahead)
    assert "deeplabv3 is ahead of unet_baseline by 0.060" in text
    assert "All 2 runs trained their whole fixed schedule" in text and "not converged" not in text
    assert "are level" in verdicts.compare_runs(unet, level)
    quick = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4)
    mixed = verdicts.describe_training([quick, ahead])
    assert "short runs, not converged ones: 1 of the 2 stopped at their budget of 5" in mixed
    behind = verdicts.compare_runs(ahead, unet)
    assert "deeplabv3 is ahead of unet_baseline" in behind


def test_no_verdict_reads_ahead_or_behind_on_runs_that_stopped_at_their_budget() -> None:
    """Quick runs on a data file without references: every verdict says it cannot tell and names
    the command that trains the references, however large the gap."""
    unet = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4, source="/data/mars.npz")
    ahead = _record("deeplabv3", 0.50, epochs_run=5, best_epoch=2, source="/data/mars.npz")
    behind = _record("unet_dice", 0.10, epochs_run=5, best_epoch=4, source="/data/mars.npz")
    command = "python -m marslib experiments run all --profile reference --seeds 0 1 2 --data FILE"
    for text in (verdicts.compare_runs(unet, ahead), verdicts.compare_runs(ahead, unet)):
        assert "cannot tell: these runs stopped at their budget" in text
        assert command in text
        assert "is ahead" not in text and "are level" not in text
    table = verdicts.against(unet, [ahead, behind])
    assert list(table["val"]) == ["(base)", "cannot tell", "cannot tell"]
    assert command in table.attrs["note"]
    assert table["val gain"].tolist() == pytest.approx([0.0, 0.2, -0.2])  # the numbers stay
    assert verdicts.larger(0.50, 0.30, runs=[unet, ahead]) is None
    assert verdicts.larger(0.50, 0.30) is True  # bare numbers: no runs to judge
    assert verdicts.recipe_beats_model(0.2, 0.0, runs=[unet, ahead]) is None
    assert verdicts.recipe_beats_model(-0.2, 0.0, runs=[unet]) is None
    # One converged run among short ones does not make the comparison readable ...
    stopped = _record("deeplabv3", 0.50, epochs_run=38, best_epoch=27, **PREVIOUS)
    assert "cannot tell" in verdicts.compare_runs(unet, stopped)
    # ... and on the synthetic set the command needs no data file.
    synthetic = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4)
    note = verdicts.short_runs_note([synthetic])
    assert "--seeds 0 1 2`" in note and "--data" not in note
    # Converged runs and fixed-budget references are read as before.
    other = _record("unet_dice", 0.30, epochs_run=40, best_epoch=29, **PREVIOUS)
    assert "deeplabv3 is ahead of unet_dice" in verdicts.compare_runs(other, stopped)
    assert verdicts.short_runs_note([other, stopped]) is None
    assert verdicts.larger(0.50, 0.30, runs=[other, stopped]) is True


def test_describe_training_of_converged_runs() -> None:
    runs = [
        _record("unet_baseline", 0.5, epochs_run=38, best_epoch=27, **PREVIOUS),
        _record("deeplabv3", 0.53, epochs_run=49, best_epoch=38, **PREVIOUS),
    ]
    assert verdicts.describe_training(runs).startswith("All 2 runs ended by early stopping")
    with pytest.raises(ValueError, match="no records"):
        verdicts.describe_training([])
    with pytest.raises(ValueError, match="split"):
        verdicts.compare_runs(runs[0], runs[1], split="train")
    with pytest.raises(ValueError, match="no test score"):
        verdicts.compare_runs(runs[0], runs[1], split="test")


def test_against_reads_each_gain_over_the_base_run() -> None:
    base = _record("unet_baseline", 0.50, epochs_run=38, best_epoch=27, **PREVIOUS)
    better = _record("unet_dice", 0.55, epochs_run=30, best_epoch=19, profile="reference")
    worse = _record("unet_focal", 0.47, epochs_run=30, best_epoch=19, profile="reference")
    level = _record("unet_original", 0.51, epochs_run=30, best_epoch=19, profile="reference")
    table = verdicts.against(base, [better, worse, level], splits=("val",))
    assert list(table.index) == ["unet_baseline", "unet_dice", "unet_focal", "unet_original"]
    assert list(table["val"]) == ["(base)", "ahead", "behind", "level"]
    assert table["val gain"].tolist() == pytest.approx([0.0, 0.05, -0.03, 0.01])
    assert table["val mIoU"].tolist() == pytest.approx([0.50, 0.55, 0.47, 0.51])
    assert verdicts.against(base, [level], splits=("val",), margin=0.005)["val"].iloc[1] == "ahead"
    assert list(verdicts.against(base, [better]).columns) == ["val mIoU", "val gain", "val"]
    with pytest.raises(ValueError, match="no test score"):
        verdicts.against(base, [better], splits=("val", "test"))
    with pytest.raises(ValueError, match="no runs"):
        verdicts.against(base, [])
    with pytest.raises(ValueError, match="'train'"):
        verdicts.against(base, [better], splits=("val", "train"))
    for record, test_score in ((base, 0.52), (better, 0.49)):
        record.metrics["test"] = {"miou": test_score, "per_class_iou": {}, "images": 10}
    both = verdicts.against(base, [better])
    assert both.loc["unet_dice", ["val", "test"]].tolist() == ["ahead", "behind"]
    assert both.loc["unet_dice", "test gain"] == pytest.approx(-0.03)
