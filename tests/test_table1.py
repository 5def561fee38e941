"""The results tables (the report's numbers, our Table 1, one-change pairs)
and the kinds of mistakes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import precision_score, recall_score

from marslib import datasets, losses, models
from marslib.analysis import errors, table1
from marslib.core.classes import CLASS_NAMES
from marslib.training import registry
from marslib.training.run_records import RunRecord

RNG = np.random.default_rng(0)


def _record(name: str, val: float | None, test: float | None, big_rock: float = 0.1) -> RunRecord:
    """A finished run as `training.load_record` would read it, with made-up scores."""
    experiment = registry.get(name, "quick")
    split = lambda miou: {  # noqa: E731
        "miou": miou,
        "per_class_iou": {"Soil": 0.8, "Bedrock": 0.7, "Sand": 0.6, "Big Rock": big_rock},
        "images": 10,
    }
    return RunRecord(
        directory=Path("/nowhere") / name,
        experiment=experiment,
        history=pd.DataFrame({"epoch": [0], "loss": [1.0]}),
        metrics={
            "val": split(val) if val is not None else None,
            "test": split(test) if test is not None else None,
            "best_epoch": 0,
            "epochs_run": 1,
            "parameters": 1000,
        },
        provenance={
            "train_seconds": 1.0,
            "data_source": "synthetic",
            "device": "CPU",
            "train_images": 123,
        },
    )


def test_report_rows_are_the_table1_experiments_named_as_the_report_names_them() -> None:
    theirs = table1.report_table1()
    assert list(theirs.index) == list(registry.TABLE1)
    for name, row in theirs.iterrows():
        recipe = registry.get(name, "quick")
        assert row["dataset"] == datasets.get(recipe.variant).label
        assert row["loss"] == losses.label(recipe.loss)
        assert row["model"].endswith(models.label(recipe.model))
    assert (
        ((theirs[["val mIoU", "test mIoU"]] > 0) & (theirs[["val mIoU", "test mIoU"]] < 1))
        .all()
        .all()
    )


def test_one_change_pairs_of_the_report_table_by_hand() -> None:
    pairs = table1.one_change_pairs(table1.report_table1(), "test mIoU")
    found = {
        (row["from"], row["to"]): (row["changed"], round(row["gain"], 4))
        for _, row in pairs.iterrows()
    }
    # Read off the report's Table 1: only these rows differ in the model alone
    # or in the data and loss alone.
    assert found == {
        ("unet_baseline", "deeplabv3"): ("model", round(0.4877 - 0.4301, 4)),
        ("wnet", "pspnet"): ("model", round(0.6413 - 0.5134, 4)),
        ("deeplabv3", "deeplabv3_bigrock"): ("data + loss", round(0.6912 - 0.4877, 4)),
    }


def test_one_change_pairs_of_a_two_by_two_design_are_its_four_edges() -> None:
    table = pd.DataFrame(
        {
            "model": ["a", "b", "a", "b"],
            "dataset": ["x", "x", "y", "y"],
            "loss": ["l", "l", "l", "l"],
            "score": [0.1, 0.2, 0.5, 0.7],
        },
        index=["ax", "bx", "ay", "by"],
    )
    pairs = table1.one_change_pairs(table, "score").set_index(["from", "to"])
    assert sorted(pairs.index) == [("ax", "ay"), ("ax", "bx"), ("ay", "by"), ("bx", "by")]
    np.testing.assert_allclose(pairs.loc[("ax", "bx"), "gain"], 0.1)
    np.testing.assert_allclose(pairs.loc[("ay", "by"), "gain"], 0.2)
    np.testing.assert_allclose(
        pairs.groupby("changed")["gain"].mean()[["model", "data + loss"]], [0.15, 0.45]
    )  # model: (0.1 + 0.2) / 2; data + loss: (0.4 + 0.5) / 2


def test_one_change_pairs_counts_any_column_of_a_group() -> None:
    table = pd.DataFrame(
        {
            "model": ["a", "b"],
            "dataset": ["x", "x"],
            "loss": ["l", "l"],
            "n": [1, 2],
            "score": [0.1, 0.2],
        }
    )
    assert len(table1.one_change_pairs(table, "score")) == 1
    both = {"model": ["model"], "data + loss": ["dataset", "loss", "n"]}
    assert table1.one_change_pairs(table, "score", both).empty


def test_one_change_pairs_names_a_missing_column() -> None:
    with pytest.raises(ValueError, match=r"no column\(s\) \['val'\]"):
        table1.one_change_pairs(table1.report_table1(), "val")


def test_table1_puts_the_report_beside_ours_and_leaves_unknown_test_scores_empty() -> None:
    records = [
        _record("unet_baseline", 0.30, 0.28, big_rock=0.0),
        _record("attention_psp", 0.60, None, big_rock=0.2),
    ]
    records.append(
        RunRecord(
            **{**records[0].__dict__, "experiment": registry.get("unet_best_recipe", "quick")}
        )
    )
    table = table1.table1(records, per_class="val")
    assert list(table.index) == ["unet_baseline", "attention_psp", "unet_best_recipe"]
    assert table.loc["attention_psp", ["model", "dataset", "loss"]].tolist() == [
        "Attention + PSP",
        "Aug. Big Rocks",
        "W. Focal+SCCE",
    ]
    assert (
        table.loc["unet_best_recipe", "model"] == "U-Net"
        and table.loc["unet_best_recipe", "loss"] == "W. Focal+SCCE"
    )
    assert table.loc["unet_baseline", "val mIoU"] == 0.30 and np.isnan(
        table.loc["attention_psp", "test mIoU"]
    )
    assert table["Big Rock IoU"].tolist() == [0.0, 0.2, 0.0]
    assert (
        table.loc["attention_psp", "report Kaggle mIoU"] == table1.REPORT_ROWS["attention_psp"][4]
    )
    assert np.isnan(table.loc["unet_best_recipe", "report val mIoU"])
    assert table["training images"].tolist() == [123, 123, 123]


def test_a_record_with_its_seeds_gives_their_mean_scores() -> None:
    seeds = [
        _record("unet_weighted", val, test, big_rock=rock)
        for val, test, rock in ((0.60, 0.62, 0.30), (0.58, 0.66, 0.50), (0.65, 0.59, 0.10))
    ]
    seeds[1].provenance["train_seconds"] = 4.0
    shown = dataclasses.replace(seeds[0], seeds=tuple(seeds))
    table = table1.table1([shown, _record("unet_baseline", 0.5, 0.5)], per_class="test")
    assert table["seeds"].tolist() == [3, 1]
    row = table.loc["unet_weighted"]
    assert (row["val mIoU"], row["test mIoU"]) == pytest.approx((0.61, 0.62333333))
    assert row["Big Rock IoU"] == pytest.approx(0.30)
    assert table1.results_table([shown]).loc["unet_weighted", "training time (s)"] == 2.0
    # A seed without test scores leaves the mean unknown rather than averaging the others.
    seeds[2] = _record("unet_weighted", 0.65, None)
    partial = table1.results_table([dataclasses.replace(seeds[0], seeds=tuple(seeds))])
    assert np.isnan(partial.loc["unet_weighted", "test mIoU"])


def test_table1_refuses_no_records() -> None:
    with pytest.raises(ValueError, match="no run records"):
        table1.table1([])


def test_background_in_loss() -> None:
    assert table1.background_in_loss(registry.get("pspnet", "quick")) == "no"
    assert table1.background_in_loss(registry.get("attention_psp", "quick")) == "partly"
    assert table1.background_in_loss(registry.get("unet_baseline", "quick")) == "yes"
    fixed = registry.from_config(
        {
            "base": "unet_baseline",
            "name": "w",
            "loss": "0.5*weighted_dice+0.5*weighted_focal",
            "class_weights": [0, 1, 1, 1, 1],
        },
        "quick",
    )
    assert table1.background_in_loss(fixed) == "no"
    balanced = registry.from_config(
        {
            "base": "unet_baseline",
            "name": "b",
            "loss": "weighted_scce",
            "class_weights": {"method": "balanced"},
        },
        "quick",
    )
    assert table1.background_in_loss(balanced) == "yes"


def test_background_use_against_scikit_learn() -> None:
    masks = RNG.integers(0, 5, (6, 8, 16)).astype(np.uint8)
    predicted = np.where(
        RNG.random(masks.shape) < 0.5, masks, RNG.integers(0, 5, masks.shape)
    ).astype(np.uint8)
    found = errors.background_use(masks, predicted)
    is_true, is_predicted = masks.ravel() == 0, predicted.ravel() == 0
    assert found["true background share"] == pytest.approx(is_true.mean())
    assert found["predicted background share"] == pytest.approx(is_predicted.mean())
    assert found["background recall"] == pytest.approx(recall_score(is_true, is_predicted))
    assert found["background precision"] == pytest.approx(precision_score(is_true, is_predicted))
    assert found["terrain called background"] == pytest.approx(is_predicted[~is_true].mean())


def test_background_use_when_no_background_is_predicted() -> None:
    masks = np.zeros((1, 2, 2), dtype=np.uint8)
    masks[0, 0] = 1
    found = errors.background_use(masks, np.ones_like(masks))
    assert found["background recall"] == 0 and np.isnan(found["background precision"])
    assert found["terrain called background"] == 0 and found["true background share"] == 0.5


def test_confusions_against_scikit_learn() -> None:
    masks = RNG.integers(0, 5, (4, 8, 16)).astype(np.uint8)
    predicted = np.where(
        RNG.random(masks.shape) < 0.6, masks, RNG.integers(0, 5, masks.shape)
    ).astype(np.uint8)
    normalised = sk_confusion_matrix(
        masks.ravel(), predicted.ravel(), labels=range(5), normalize="true"
    )
    found = errors.confusions(masks, predicted)
    assert len(found) == 16 and found["share"].is_monotonic_decreasing
    for _, row in found.iterrows():
        true, guess = CLASS_NAMES.index(row["true"]), CLASS_NAMES.index(row["predicted"])
        assert true != 0 and true != guess
        assert row["share"] == pytest.approx(normalised[true, guess])
    assert errors.confusions(masks, predicted, top=3).equals(found.head(3))


def test_mistake_kinds_by_hand() -> None:
    masks = np.array([[[1, 1, 2, 3, 4, 4, 0, 0]]], dtype=np.uint8)
    predicted = np.array([[[1, 2, 0, 4, 1, 4, 3, 0]]], dtype=np.uint8)
    # Mistakes on scored pixels: soil->bedrock (terrain), bedrock->background, sand->Big Rock,
    # Big Rock->soil. The two true-background pixels are not scored, whatever was predicted there.
    found = errors.mistake_kinds(masks, predicted)
    assert found.to_dict() == {
        "terrain for terrain": 0.25,
        "called background": 0.25,
        "involves Big Rock": 0.5,
    }


def test_mistake_kinds_without_mistakes_is_nan() -> None:
    masks = RNG.integers(0, 5, (2, 4, 4)).astype(np.uint8)
    assert errors.mistake_kinds(masks, masks).isna().all()


def test_label_following_by_hand() -> None:
    predicted = np.array([[[1, 1, 2, 3]], [[2, 2, 2, 2]]], dtype=np.uint8)
    found = errors.label_following(predicted, true_classes=[1, 3], given_classes=[2, 2])
    assert found["predicted as true class"].tolist() == [0.5, 0.0]
    assert found["predicted as given class"].tolist() == [0.25, 1.0]


def test_label_following_wants_one_class_pair_per_image() -> None:
    with pytest.raises(ValueError, match="one true and one given class per image"):
        errors.label_following(np.zeros((2, 4, 4), dtype=np.uint8), [1], [2, 3])


def test_class_weights_used_are_those_the_training_computes(tiny_data) -> None:
    from marslib.training import splits

    experiment = dataclasses.replace(registry.get("attention_psp", "quick"), train_limit=30)
    used = table1.class_weights_used(experiment, tiny_data)
    masks = splits.training_split(experiment, tiny_data).train_masks
    assert len(masks) == 30  # the subset the run trains on, not its whole dataset
    assert experiment.class_weights == {"method": "balanced", "ignore_background": True, "cap": 10}
    # "balanced" without background, written out: pixels of classes 1..4 / (4 * pixels of c),
    # capped at 10; background weighs 0.
    terrain_counts = np.bincount(masks.ravel(), minlength=5)[1:].astype(np.float64)
    expected = np.minimum(terrain_counts.sum() / (4 * terrain_counts), 10.0)
    np.testing.assert_allclose(used, [0.0, *expected], rtol=1e-6)
    assert used[0] == 0 and used.max() <= 10
    assert table1.class_weights_used(registry.get("unet_baseline", "quick"), tiny_data) is None
