"""What a chapter shows: the shipped references on the embedded synthetic set at the quick profile
(verified, never trained), else runs trained at the chapter's profile."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from types import SimpleNamespace

import pytest

from marslib import data, training
from marslib.core import profiles
from marslib.data import loading
from marslib.training import loop, record_scores, registry, run_records, shown

QUICK, FULL, REFERENCE = (profiles.PROFILES[name] for name in ("quick", "full", "reference"))
EMBEDDED = SimpleNamespace(
    fingerprint=loading.recipe_fingerprint(loading.default_recipe()), is_synthetic=True
)


def test_the_quick_profile_on_the_embedded_set_shows_the_references(
    tiny_data: data.MarsData,
) -> None:
    assert shown.shown_profile(QUICK, EMBEDDED) is REFERENCE
    assert shown.shown_profile(FULL, EMBEDDED) is FULL  # a GPU trains at the report's scale
    assert shown.shown_profile(QUICK, tiny_data) is QUICK  # other data: no references for it
    assert shown.shows_references(REFERENCE, EMBEDDED)
    assert not shown.shows_references(REFERENCE, tiny_data)


def test_the_note_says_which_records_a_chapter_shows(tiny_data: data.MarsData) -> None:
    assert "reference runs" in shown.shown_note(REFERENCE, EMBEDDED)
    assert "re-scored" in shown.shown_note(REFERENCE, EMBEDDED)
    assert "experiments run NAME --profile reference" in shown.shown_note(REFERENCE, EMBEDDED)
    quick = shown.shown_note(QUICK, tiny_data)
    assert "synthetic set" in quick and "not long enough to converge" in quick
    real = SimpleNamespace(fingerprint="0123", is_synthetic=False, source="/home/me/mars.npz")
    full = shown.shown_note(FULL, real)
    assert "real data file" in full and "/home" not in full and "every training image" in full


def test_other_data_trains_at_the_profile(tiny_data: data.MarsData, monkeypatch) -> None:
    called = {}

    def fake_run(experiment, data, runs_dir, verbose):  # noqa: ANN001, ANN202
        called["experiment"] = experiment
        return "trained"

    monkeypatch.setattr(loop, "run", fake_run)
    assert shown.show("pspnet", QUICK, tiny_data) == "trained"
    assert called["experiment"] == registry.get("pspnet", QUICK)


@pytest.fixture
def short_references(tiny_data: data.MarsData, tmp_path: Path, monkeypatch) -> Path:
    """Reference records for the tiny set: the reference profile shortened to 2 epochs on it,
    shipped in a temporary references folder; returns that folder."""
    full_get = registry.get

    def short(name: str, profile: object = None, seed: int = 0) -> training.Experiment:
        return dataclasses.replace(full_get(name, profile, seed), epochs=2, batch_size=8)

    monkeypatch.setattr(registry, "get", short)
    monkeypatch.setattr(shown, "references_cover", lambda data: data is tiny_data)
    monkeypatch.setattr(run_records, "REFERENCES_DIR", tmp_path / "references")
    monkeypatch.setenv("MARSLIB_CACHE", str(tmp_path / "cache"))  # no stamp from another test
    return tmp_path / "references"


def test_a_missing_reference_names_the_command_that_trains_it(
    tiny_data: data.MarsData, short_references: Path
) -> None:
    with pytest.raises(ValueError, match="experiments run unet_baseline --profile reference"):
        shown.show("unet_baseline", REFERENCE, tiny_data)


def test_the_seed_0_reference_is_shown_carrying_every_seed_shipped(
    tiny_data: data.MarsData, short_references: Path, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(registry, "names", lambda group=None: ["unet_baseline"])
    monkeypatch.setattr(registry, "SEEDS", (0, 1))
    current = registry.get("unet_baseline", REFERENCE)
    run_records.publish(loop.run(current, tiny_data, tmp_path / "runs", verbose=0))
    assert shown.missing_references(tiny_data) == [("unet_baseline", 1)]
    assert [r.experiment.seed for r in shown.seed_records("unet_baseline", tiny_data)] == [0]
    assert shown.seeded_reference("unet_baseline", tiny_data) is None  # seed 1 is missing
    # Shown before its last seed lands, it carries the one it has: its verdicts cannot tell.
    assert len(shown.show("unet_baseline", REFERENCE, tiny_data).seed_records()) == 1

    second = registry.get("unet_baseline", REFERENCE, 1)
    run_records.publish(loop.run(second, tiny_data, tmp_path / "runs", verbose=0))
    assert shown.missing_references(tiny_data) == []
    record = shown.show("unet_baseline", REFERENCE, tiny_data)
    assert record.directory == run_records.reference_directory(current, tiny_data)
    # A chapter may pass its own (quick) profile: `show` resolves what to show by itself.
    as_chapter = shown.show("unet_baseline", QUICK, tiny_data)
    assert as_chapter.directory == record.directory
    assert as_chapter.origin == run_records.REFERENCE
    note = shown.shown_note(REFERENCE, tiny_data)
    assert "fixed 30 epochs" in note and "2 seeds of every run. The tables give the mean" in note
    # The shown record carries every seed, so that verdicts on it read intervals.
    assert [r.experiment.seed for r in record.seed_records()] == [0, 1]
    seeded = shown.seeded_reference("unet_baseline", tiny_data)
    assert [r.directory for r in seeded.seed_records()] == [r.directory for r in record.seeds]
    assert shown.seeded_reference("unet_dice", tiny_data) is None  # none of its seeds shipped
    with pytest.raises(ValueError, match="reference record of 'pspnet' on data .* is missing"):
        shown.show("pspnet", QUICK, tiny_data)


def test_a_reference_is_shown_verified_and_never_trained(
    tiny_data: data.MarsData, short_references: Path, tmp_path: Path, monkeypatch
) -> None:
    experiment = registry.get("unet_baseline", REFERENCE)
    trained = run_records.load_record(
        run_records.publish(loop.run(experiment, tiny_data, tmp_path / "runs", verbose=0))
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a shipped reference was trained again")

    monkeypatch.setattr(loop, "run", refuse)
    record = shown.show("unet_baseline", REFERENCE, tiny_data)
    assert record.directory.parent == short_references
    assert record.metrics == trained.metrics

    # A record that no longer matches its model fails where it is shown.
    metrics = record.directory / "metrics.json"
    tampered = json.loads(metrics.read_text())
    tampered["val"]["miou"] += 0.01
    metrics.write_text(json.dumps(tampered))
    with pytest.raises(ValueError, match="does not reproduce"):
        shown.show("unet_baseline", REFERENCE, tiny_data)


def test_a_record_that_re_scored_is_not_re_scored_again_until_what_it_rests_on_changes(
    tiny_data: data.MarsData, short_references: Path, tmp_path: Path, monkeypatch
) -> None:
    import shutil

    import keras

    experiment = registry.get("unet_baseline", REFERENCE)
    run_records.publish(loop.run(experiment, tiny_data, tmp_path / "runs", verbose=0))
    checked = []
    real_verify = record_scores.verify
    monkeypatch.setattr(record_scores, "verify", lambda *args: checked.append(real_verify(*args)))
    record = shown.show("unet_baseline", REFERENCE, tiny_data)
    stamp = shown.verified_stamp(record.directory, tiny_data)
    assert len(checked) == 1 and stamp.parent == tmp_path / "cache" / "verified"
    assert json.loads(stamp.read_text()) == {
        "record": record.directory.name,
        "data": tiny_data.fingerprint,
    }
    shown.show("unet_baseline", REFERENCE, tiny_data)  # as a later chapter of the same build
    assert len(checked) == 1

    # Other weights or another data fingerprint name another stamp ...
    copy = Path(shutil.copytree(record.directory, tmp_path / "copy"))
    assert shown.verified_stamp(copy, tiny_data) == stamp
    with (copy / "model.keras").open("ab") as model:
        model.write(b"\0")
    assert shown.verified_stamp(copy, tiny_data) != stamp
    other = SimpleNamespace(fingerprint="another")
    assert shown.verified_stamp(record.directory, other) != stamp
    # ... and so does another Keras: the record is re-scored under it.
    monkeypatch.setattr(keras, "__version__", "0.0.0")
    assert shown.verified_stamp(record.directory, tiny_data) != stamp
    shown.show("unet_baseline", REFERENCE, tiny_data)
    assert len(checked) == 2
