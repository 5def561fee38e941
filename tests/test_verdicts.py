"""What a comparison of runs supports: the margin, convergence, and the sentences built on them."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from marslib.analysis import verdicts
from marslib.training import registry
from marslib.training.run_records import RunRecord


def _record(name: str, val: float, *, epochs_run: int, best_epoch: int, profile: str = "quick"):
    experiment = registry.get(name, profile)
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
        provenance={},
    )


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
    stopped = _record("unet_baseline", 0.5, epochs_run=38, best_epoch=27, profile="reference")
    assert verdicts.converged(stopped)
    assert "early stopping ended it after 38" in verdicts.training_state(stopped)


def test_compare_runs_names_the_leader_only_beyond_the_margin() -> None:
    unet = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4)
    ahead = _record("deeplabv3", 0.36, epochs_run=5, best_epoch=2)
    level = _record("deeplabv3", 0.31, epochs_run=5, best_epoch=4)
    text = verdicts.compare_runs(unet, ahead)
    assert "deeplabv3 is ahead of unet_baseline by 0.060" in text
    assert "not converged" in text and "1 of them still improving" in text
    assert "are level" in verdicts.compare_runs(unet, level)
    behind = verdicts.compare_runs(ahead, unet)
    assert "deeplabv3 is ahead of unet_baseline" in behind


def test_describe_training_of_converged_runs() -> None:
    runs = [
        _record("unet_baseline", 0.5, epochs_run=38, best_epoch=27, profile="reference"),
        _record("deeplabv3", 0.53, epochs_run=49, best_epoch=38, profile="reference"),
    ]
    assert verdicts.describe_training(runs).startswith("All 2 runs ended by early stopping")
    with pytest.raises(ValueError, match="no records"):
        verdicts.describe_training([])
    with pytest.raises(ValueError, match="split"):
        verdicts.compare_runs(runs[0], runs[1], split="train")
    with pytest.raises(ValueError, match="no test score"):
        verdicts.compare_runs(runs[0], runs[1], split="test")


def test_against_reads_each_gain_over_the_base_run() -> None:
    base = _record("unet_baseline", 0.50, epochs_run=38, best_epoch=27, profile="reference")
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
