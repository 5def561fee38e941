"""The reference records shipped in references/: each is whole, made by this code for the named
run it says, and its model still gives its scores. A change to a model, a loss, a dataset builder
or the training step (a new code version) or to a named run's config makes a record stale: this
test then fails until the reference is trained again (README: the reference runs)."""

from __future__ import annotations

import math
import warnings

import pytest

from marslib import data as mars_data
from marslib import training
from marslib.data import loading
from marslib.training import registry, run_records

SHIPPED = sorted(
    path
    for path in run_records.REFERENCES_DIR.glob("*")
    if path.is_dir() and not path.name.startswith(".")
)


def test_references_exist() -> None:
    assert SHIPPED, f"no reference record in {run_records.REFERENCES_DIR}"


@pytest.mark.parametrize("folder", SHIPPED, ids=[path.name for path in SHIPPED])
def test_a_reference_is_whole_current_and_named_by_its_key(folder) -> None:
    assert run_records.damage(folder) is None and run_records.is_complete(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted(run_records.RECORD_FILES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a record of other code versions warns: stale
        record = training.load_record(folder)
    name = record.experiment.name
    assert record.experiment.profile == "reference" and name in registry.names()
    named = registry.get(name, "reference").to_dict()
    assert record.experiment.to_dict() == named, f"{name}'s config changed: retrain its reference"
    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    assert record.provenance["data_fingerprint"] == fingerprint, "made from other data"
    key = run_records.run_key(record.experiment, fingerprint)
    assert folder.name == f"{name}-{key}", (
        f"{folder.name} is stale: the current code and config give the key {key}; retrain it with "
        f"python -m marslib experiments run {name} --profile reference, then publish it"
    )


def test_a_stale_reference_fails(tmp_path, monkeypatch) -> None:
    from marslib.core import versions

    folder = SHIPPED[0]
    monkeypatch.setitem(versions.CODE_VERSIONS, "losses", versions.CODE_VERSIONS["losses"] + 1)
    with pytest.raises((AssertionError, UserWarning), match="stale|code versions"):
        test_a_reference_is_whole_current_and_named_by_its_key(folder)


def test_rescoring_a_reference_reproduces_its_record() -> None:
    """The shipped model, re-scored on the default synthetic set's validation split and the test
    set's public quarter, gives the record's scores (as every chapter that shows it checks)."""
    record = training.load_record(SHIPPED[0])
    training.verify(record, mars_data.synthetic_data())  # the default set, whatever load() finds


def test_the_reference_table_reads_each_shipped_record_and_names_the_missing(monkeypatch) -> None:
    from marslib.analysis import references

    table = references.reference_table()
    assert list(table.index) == registry.names()
    for folder in SHIPPED:
        record = training.load_record(folder)
        row = table.loc[record.experiment.name]
        assert row["status"] == "shipped" and row["best epoch"] == record.metrics["best_epoch"] + 1
        assert row["minutes"] == pytest.approx(record.provenance["train_seconds"] / 60)
        if record.experiment.task == "terrain":
            if record.val_miou is None:  # the final model: no validation split
                assert math.isnan(row["val score"]) and not record.experiment.validation
            else:
                assert row["val score"] == pytest.approx(record.val_miou)
            test = record.metrics["test"]["per_class_iou"]
            assert row["Big Rock IoU"] == pytest.approx(test["Big Rock"])
    monkeypatch.setattr(run_records, "REFERENCES_DIR", SHIPPED[0].parent / "nowhere")
    empty = references.reference_table(["unet_baseline"])
    assert empty.loc["unet_baseline", "status"] == "not trained yet"
    assert empty.loc["unet_baseline"].drop(["group", "status"]).isna().all()


def test_the_final_model_trains_as_long_as_its_base_took_to_its_best_epoch() -> None:
    """With no validation split nothing stops the final model early: at the reference profile it
    trains for the epochs its base run's reference needed to reach its best (registry)."""
    final = registry.get("final", "reference")
    base = registry.get(registry.RUNS["final"].base, "reference")
    folder = run_records.reference_directory(
        base, loading.recipe_fingerprint(loading.default_recipe())
    )
    record = training.load_record(folder)
    assert not final.validation and final.epochs == record.metrics["best_epoch"] + 1
