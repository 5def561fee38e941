"""What a comparison of runs supports: intervals over seeds (runs of one seed cannot tell),
convergence, and the sentences built on them."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from marslib import metrics
from marslib.analysis import intervals, verdicts
from marslib.training import registry, run_records
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


IMAGES = 4


def _confusions(miou: float) -> np.ndarray:
    """IMAGES identical images whose mIoU is `miou` (0.75 to 1): soil, bedrock and sand right,
    a share 4 * miou - 3 of the Big Rock pixels right and the rest predicted as background,
    which no other class's IoU counts. uint16 (IMAGES, 5, 5)."""
    rock = 10_000
    right = round((4 * miou - 3) * rock)
    one = np.diag([0, 100, 100, 100, right]).astype(np.uint16)
    one[4, 0] = rock - right
    return np.repeat(one[None], IMAGES, axis=0)


def _seeded(directory: Path, name: str, mious: list[float]) -> RunRecord:
    """A reference of the current recipe with one seed per entry of `mious` (its validation
    mIoU), each seed's per-image confusions written under `directory`; seed 0 carries them all,
    as `training.show` returns it."""
    records = []
    for seed, miou in enumerate(mious):
        folder = directory / f"{name}-{seed}"
        folder.mkdir(parents=True)
        run_records.write_per_image(folder / run_records.PER_IMAGE_FILE, {"val": _confusions(miou)})
        record = _record(name, miou, epochs_run=30, best_epoch=29, profile="reference")
        experiment = dataclasses.replace(record.experiment, seed=seed)
        records.append(dataclasses.replace(record, directory=folder, experiment=experiment))
    return dataclasses.replace(records[0], seeds=tuple(records) if len(records) > 1 else ())


def test_the_confusions_score_what_they_are_built_for() -> None:
    for miou in (0.75, 0.8123, 1.0):
        found = metrics.iou_from_confusion(_confusions(miou).sum(axis=0)).mean()
        assert found == pytest.approx(miou, abs=1e-4)


# A two-by-two ablation: its baseline, the recipe alone, the model alone and both.
CELLS = ("unet_baseline", "unet_best_recipe", "attention_psp_baseline_recipe", "attention_psp")
EDGES = pd.DataFrame(
    {
        "changed": ["data + loss", "data + loss", "model", "model"],
        "from": [CELLS[0], CELLS[2], CELLS[0], CELLS[1]],
        "to": [CELLS[1], CELLS[3], CELLS[2], CELLS[3]],
    }
)


def _ablation(directory: Path, recipe: float, model: float, spread: float = 0.0) -> dict:
    """The four runs, scores additive: baseline 0.87, + `recipe`, + `model`, + both; with a
    `spread`, three seeds each at -spread, 0, +spread around those scores."""
    means = [0.87, 0.87 + recipe, 0.87 + model, 0.87 + recipe + model]
    offsets = [-spread, 0.0, spread] if spread else [0.0]
    return {
        name: _seeded(directory, name, [m + o for o in offsets])
        for name, m in zip(CELLS, means, strict=True)
    }


@pytest.mark.parametrize(("recipe", "model"), [(0.10, 0.02), (0.02, 0.10), (-0.04, -0.08)])
def test_on_one_seed_the_claim_cannot_be_told_whatever_the_effects(
    tmp_path: Path, recipe: float, model: float
) -> None:
    runs = _ablation(tmp_path, recipe, model)
    assert verdicts.recipe_beats_model(EDGES, runs, "val") is None
    effects = verdicts.main_effects(EDGES, runs, "val")
    assert effects["data + loss"].gap == pytest.approx(recipe, abs=1e-4)
    assert effects["model"].gap == pytest.approx(model, abs=1e-4)


@pytest.mark.parametrize(
    ("recipe", "model", "expected"),
    [
        (0.10, 0.02, True),
        (0.02, 0.10, False),
        (-0.02, -0.05, False),  # ahead of the model, but it hurts
        (0.03, 0.02, True),  # 0.01 apart: seeds 0.001 apart tell it
    ],
)
def test_with_seeds_the_claim_reads_the_interval(
    tmp_path: Path, recipe: float, model: float, expected: bool
) -> None:
    tight = _ablation(tmp_path / "tight", recipe, model, spread=0.001)
    assert verdicts.recipe_beats_model(EDGES, tight, "val") is expected
    # 0.06 against 0, seeds 0.05 apart: the intervals hold 0.
    loose = _ablation(tmp_path / "loose", 0.06, 0.0, spread=0.05)
    gain = verdicts.main_effects(EDGES, loose, "val")["data + loss"]
    assert gain.low < 0 < gain.high
    assert verdicts.recipe_beats_model(EDGES, loose, "val") is None


@pytest.mark.parametrize(
    ("recipe", "fix", "spread", "expected"),
    [
        (0.10, 0.015, 0.001, True),  # a small gain beside a large recipe effect
        (0.02, 0.10, 0.001, False),  # the fix did more than the recipe
        (0.06, 0.0, 0.05, None),  # seeds 0.05 apart: 0.06 cannot be told
    ],
)
def test_a_gain_is_set_against_the_recipes_main_effect(
    tmp_path: Path, recipe: float, fix: float, spread: float, expected: bool | None
) -> None:
    runs = _ablation(tmp_path, recipe, 0.0, spread=spread)
    offsets = [-spread, 0.0, spread]
    runs["unet_fixed_monocolor"] = _seeded(
        tmp_path, "unet_fixed_monocolor", [0.87 + fix + o for o in offsets]
    )
    gain = {"unet_fixed_monocolor": 1.0, "unet_baseline": -1.0}
    assert verdicts.smaller_than_recipe(gain, EDGES, runs, "val") is expected
    # The contrast it reads: the recipe's effect minus the fix's gain, by hand.
    weights = {"unet_best_recipe": 0.5, "attention_psp": 0.5, "unet_baseline": 0.5}
    weights |= {"attention_psp_baseline_recipe": -0.5, "unet_fixed_monocolor": -1.0}
    contrast = verdicts.effect([(w, runs[n]) for n, w in weights.items()], "val")
    assert contrast.gap == pytest.approx(recipe - fix, abs=1e-4)


def test_seeded_runs_are_compared_by_the_interval_not_the_margin(tmp_path: Path) -> None:
    base = _seeded(tmp_path, "unet_baseline", [0.800, 0.801, 0.802])
    small = _seeded(tmp_path, "unet_dice", [0.810, 0.811, 0.812])  # 0.01: under the margin
    noisy = _seeded(tmp_path, "unet_focal", [0.80, 0.84, 0.88])  # 0.039: beyond it
    text = verdicts.compare_runs(base, small)
    # Every image alike: no image variance, so the interval is Welch's over the seeds.
    welch = stats.ttest_ind([0.810, 0.811, 0.812], [0.800, 0.801, 0.802], equal_var=False)
    low, high = welch.confidence_interval(0.95)
    assert "unet_dice is ahead of unet_baseline by 0.010 over 3 and 3 seeds" in text
    assert f"95% interval {low:+.3f} to {high:+.3f}" in text
    assert "cannot be told apart: a gap of +0.039" in verdicts.compare_runs(base, noisy)
    table = verdicts.against(base, [small, noisy], splits=("val",))
    assert list(table["val"]) == ["(base)", "ahead", "cannot tell"]
    assert table["val mIoU"].tolist() == pytest.approx([0.801, 0.811, 0.84], abs=1e-4)
    assert table.loc["unet_dice", "val interval"] == f"{low:+.3f} to {high:+.3f}"
    # A run of one seed among seeded ones: no interval, on the records shown (seed 0: 0.800
    # for the base).
    single = _seeded(tmp_path / "one", "unet_focal", [0.84])
    assert "unet_focal (0.840) and unet_baseline (0.800) cannot be told apart: a gap of " in (
        verdicts.compare_runs(base, single)
    )
    assert not verdicts.seeded([base, single]) and verdicts.seeded([base, small])


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


def test_runs_of_one_seed_cannot_be_told_apart_whatever_the_gap() -> None:
    # Runs of the current reference recipe: a fixed budget of 30 epochs, the last one kept.
    unet = _record("unet_baseline", 0.30, epochs_run=30, best_epoch=29, profile="reference")
    ahead = _record("deeplabv3", 0.36, epochs_run=30, best_epoch=27, profile="reference")
    text = verdicts.compare_runs(unet, ahead)
    assert (
        "deeplabv3 (0.360) and unet_baseline (0.300) cannot be told apart: a gap of +0.060 " in text
    )
    assert "from single runs, whose seed spread is unmeasured" in text and "is ahead" not in text
    assert "All 2 runs trained their whole fixed schedule" in text and "not converged" not in text
    quick = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4)
    mixed = verdicts.describe_training([quick, ahead])
    assert "short runs, not converged ones: 1 of the 2 stopped at their budget of 5" in mixed
    assert "a gap of -0.060" in verdicts.compare_runs(ahead, unet)


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
    told = intervals.from_terms([(1.0, [0.19, 0.2, 0.21])])
    assert verdicts.reading(told, runs=[unet, ahead]) is None
    assert verdicts.reading(told) is True  # no runs to judge
    assert verdicts.reading(intervals.from_terms([(1.0, [0.2])])) is None  # one seed
    # One converged run among short ones does not make the comparison readable ...
    stopped = _record("deeplabv3", 0.50, epochs_run=38, best_epoch=27, **PREVIOUS)
    assert "cannot tell" in verdicts.compare_runs(unet, stopped)
    # ... and on the synthetic set the command needs no data file.
    synthetic = _record("unet_baseline", 0.30, epochs_run=5, best_epoch=4)
    note = verdicts.short_runs_note([synthetic])
    assert "--seeds 0 1 2`" in note and "--data" not in note
    # Converged runs are not short: of one seed each, they cannot be told apart all the same.
    other = _record("unet_dice", 0.30, epochs_run=40, best_epoch=29, **PREVIOUS)
    assert verdicts.short_runs_note([other, stopped]) is None
    assert "cannot be told apart: a gap of +0.200" in verdicts.compare_runs(other, stopped)


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


def test_against_gives_each_gain_over_the_base_run_and_one_seed_cannot_tell() -> None:
    base = _record("unet_baseline", 0.50, epochs_run=38, best_epoch=27, **PREVIOUS)
    better = _record("unet_dice", 0.55, epochs_run=30, best_epoch=19, profile="reference")
    worse = _record("unet_focal", 0.47, epochs_run=30, best_epoch=19, profile="reference")
    level = _record("unet_original", 0.51, epochs_run=30, best_epoch=19, profile="reference")
    table = verdicts.against(base, [better, worse, level], splits=("val",))
    assert list(table.index) == ["unet_baseline", "unet_dice", "unet_focal", "unet_original"]
    assert list(table["val"]) == ["(base)", "cannot tell", "cannot tell", "cannot tell"]
    assert table["val gain"].tolist() == pytest.approx([0.0, 0.05, -0.03, 0.01])
    assert table["val mIoU"].tolist() == pytest.approx([0.50, 0.55, 0.47, 0.51])
    assert set(table["val interval"]) == {""}
    columns = ["val mIoU", "val gain", "val interval", "val"]
    assert list(verdicts.against(base, [better]).columns) == columns
    with pytest.raises(ValueError, match="no test score"):
        verdicts.against(base, [better], splits=("val", "test"))
    with pytest.raises(ValueError, match="no runs"):
        verdicts.against(base, [])
    with pytest.raises(ValueError, match="'train'"):
        verdicts.against(base, [better], splits=("val", "train"))
    for record, test_score in ((base, 0.52), (better, 0.49)):
        record.metrics["test"] = {"miou": test_score, "per_class_iou": {}, "images": 10}
    both = verdicts.against(base, [better])
    assert both.loc["unet_dice", ["val", "test"]].tolist() == ["cannot tell", "cannot tell"]
    assert both.loc["unet_dice", "test gain"] == pytest.approx(-0.03)


def test_gain_reads_the_interval_for_seeded_runs_and_cannot_tell_on_one_seed(
    tmp_path: Path,
) -> None:
    base = _seeded(tmp_path, "unet_baseline", [0.800, 0.801, 0.802])
    small = _seeded(tmp_path, "unet_dice", [0.810, 0.811, 0.812])
    value, ahead = verdicts.gain(small, base, "val")
    assert value == pytest.approx(0.010, abs=1e-4) and ahead is True  # seeds 0.001 apart
    # Big Rock IoU is 4 * mIoU - 3 in these records: four times the gap.
    value, ahead = verdicts.gain(small, base, "val", "Big Rock IoU")
    assert value == pytest.approx(0.040, abs=4e-4) and ahead is True
    one_base = _seeded(tmp_path / "one", "unet_baseline", [0.800])
    one_run = _seeded(tmp_path / "one", "unet_dice", [0.810])
    assert verdicts.gain(one_run, one_base, "val") == (pytest.approx(0.010), None)
    with pytest.raises(ValueError, match="no test score"):
        verdicts.gain(one_run, one_base, "test")


def test_the_rule_in_force_is_said_as_the_verdicts_read_it(tmp_path: Path) -> None:
    base = _seeded(tmp_path, "unet_baseline", [0.800, 0.801, 0.802])
    run = _seeded(tmp_path, "unet_dice", [0.810, 0.811, 0.812])
    one = _seeded(tmp_path / "one", "unet_focal", [0.84])
    assert "means over 3 seeds a run" in verdicts.rule([base, run])
    assert "one seed each" in verdicts.rule([base, one]) and "cannot tell" in verdicts.rule([one])
    with pytest.raises(ValueError, match="no records"):
        verdicts.rule([])
