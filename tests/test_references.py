"""The reference records shipped in references/: each is whole, made by this code for the named
run and seed it says, and its model still gives its scores. A change to a model, a loss, a
dataset builder or the training step (a new code version) or to a named run's config makes a
record stale: this test then fails until the reference is trained again (README: the reference
runs). The previous recipe's record the book keeps (references/previous_recipe/: unet_weighted's,
whose curve chapters 7 and 15 set against the current schedule's) is held to the same checks
against its own config.

Every shipped record is re-scored in CI: the ones the book shows by the book's build, the others
here (in a private cache, so the repository's cache is never written)."""

from __future__ import annotations

import math
import warnings
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from marslib import data as mars_data
from marslib import training
from marslib.data import loading
from marslib.training import registry, run_records, shown

FINGERPRINT = loading.recipe_fingerprint(loading.default_recipe())
PREVIOUS = run_records.REFERENCES_DIR / run_records.PREVIOUS_RECIPE


def _folders(root: Path) -> list[Path]:
    return sorted(
        path
        for path in root.glob("*")
        if path.is_dir() and not path.name.startswith(".") and path != PREVIOUS
    )


CURRENT, OLD = _folders(run_records.REFERENCES_DIR), _folders(PREVIOUS)
EVERY = CURRENT + OLD


def _whole(folder: Path) -> training.RunRecord:
    assert run_records.damage(folder) is None and run_records.is_complete(folder)
    assert sorted(path.name for path in folder.iterdir()) == sorted(run_records.RECORD_FILES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a record of other code versions warns: stale
        record = training.load_record(folder)
    assert record.experiment.profile == "reference"
    assert record.experiment.name in registry.names()
    assert record.provenance["data_fingerprint"] == FINGERPRINT, "made from other data"
    assert "machine" not in record.provenance, "a record names no host"
    key = run_records.run_key(record.experiment, FINGERPRINT)
    assert folder.name == f"{record.experiment.name}-{key}", (
        f"{folder.name} is stale: the current code and config give the key {key}; retrain it with "
        f"python -m marslib experiments run {record.experiment.name} --profile reference "
        f"--seeds {record.experiment.seed}, then publish it"
    )
    return record


def test_every_named_run_has_all_its_seeds_and_the_schedule_lesson_its_previous_record() -> None:
    assert shown.missing_references(SimpleNamespace(fingerprint=FINGERPRINT)) == []
    assert [training.load_record(f).experiment.name for f in OLD] == ["unet_weighted"]


@pytest.mark.parametrize("folder", CURRENT, ids=[path.name for path in CURRENT])
def test_a_reference_is_whole_current_and_named_by_its_key(folder: Path) -> None:
    record = _whole(folder)
    name, seed = record.experiment.name, record.experiment.seed
    assert seed in registry.SEEDS
    named = registry.get(name, "reference", seed).to_dict()
    assert record.experiment.to_dict() == named, f"{name}'s config changed: retrain its reference"
    epochs = record.history["epoch"].to_numpy()
    assert list(epochs) == list(range(record.experiment.epochs)), "a fixed budget, every epoch run"
    assert record.metrics["best_epoch"] == record.experiment.epochs - 1, "the last epoch is kept"


@pytest.mark.parametrize("folder", OLD, ids=[path.name for path in OLD])
def test_a_previous_recipe_record_is_whole_and_named_by_its_key(folder: Path) -> None:
    record = _whole(folder)
    assert (record.experiment.schedule, record.experiment.seed) == ("constant", 0)
    assert run_records.previous_reference(record.experiment.name, FINGERPRINT) == folder


def test_a_stale_reference_fails(monkeypatch) -> None:
    from marslib.core import versions

    monkeypatch.setitem(versions.CODE_VERSIONS, "losses", versions.CODE_VERSIONS["losses"] + 1)
    with pytest.raises((AssertionError, UserWarning), match="stale|code versions"):
        _whole(EVERY[0])


def _not_shown_by_the_build() -> list[Path]:
    """The shipped records that no chapter shows (the build re-scores the others: each run's
    seed 0), and one that a chapter shows (so this test also covers the records the build
    checks)."""
    seed_zero = {
        run_records.reference_directory(registry.get(name, "reference"), FINGERPRINT)
        for name in registry.names()
    }
    return [folder for folder in CURRENT if folder not in seed_zero] + sorted(seed_zero)[:1] + OLD


@pytest.fixture(scope="module")
def default_set(module_folders: Path) -> mars_data.MarsData:
    """The default synthetic set, generated in the module's private cache."""
    return mars_data.synthetic_data()


RESCORED = _not_shown_by_the_build()


@pytest.mark.parametrize("folder", RESCORED, ids=[path.name for path in RESCORED])
def test_rescoring_a_reference_reproduces_its_record(
    folder: Path, default_set: mars_data.MarsData
) -> None:
    """The shipped model, re-scored on the default synthetic set's validation split and the test
    set's public quarter, gives the record's scores and per-image counts (as every chapter that
    shows it checks). Here: every record the chapters do not show, and one they show."""
    assert default_set.fingerprint == FINGERPRINT
    training.verify(training.load_record(folder), default_set)


def test_the_reference_table_reads_each_shipped_record(monkeypatch) -> None:
    from marslib.analysis import references

    table = references.reference_table()
    assert list(table.index) == registry.names()
    for name in registry.names():
        found = [training.load_record(f) for f in CURRENT if f.name.startswith(f"{name}-")]
        row = table.loc[name]
        assert row["seeds"] == len(found)
        if not found:
            assert math.isnan(row["test score"])
            continue
        tests = [r.test_miou if r.test_miou is not None else np.nan for r in found]
        if found[0].experiment.task == "terrain":
            assert row["test score"] == pytest.approx(sum(tests) / len(tests))
            if len(found) > 1:
                assert row["test SD"] == pytest.approx(np.std(tests, ddof=1))
        curves = [c for c in found[0].history if c.startswith("val_") and c != "val_loss"]
        if not curves:  # trained on every image (final): no validation curve
            assert math.isnan(row["end SD"])
        else:  # the validation mIoU, or the background net's validation IoU
            ends = [np.std(r.history[curves[0]].to_numpy()[-5:], ddof=1) for r in found]
            assert row["end SD"] == pytest.approx(np.mean(ends))
        assert row["minutes"] == pytest.approx(
            sum(r.provenance["train_seconds"] for r in found) / 60 / len(found)
        )
    monkeypatch.setattr(run_records, "REFERENCES_DIR", PREVIOUS / "nowhere")
    empty = references.reference_table(["unet_baseline"])
    assert empty.loc["unet_baseline", "seeds"] == 0
    assert empty.loc["unet_baseline"].drop(["group", "seeds"]).isna().all()
