"""Run records that never lose work nor pass damage for good: a lock per run folder, damaged
folders skipped and retrained, a kill after DONE, the model saved without optimizer state, shipped
reference records found like cached ones, and a record re-scored from its own model."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
import warnings
import zipfile
from pathlib import Path

import h5py
import numpy as np
import pytest
from conftest import TINY

from marslib import data, training
from marslib.data import to_model_input
from marslib.training import loop, run_records


@pytest.fixture(scope="module")
def record(tiny_data: data.MarsData, module_folders: Path) -> training.RunRecord:
    return training.run(training.Experiment.from_dict(TINY), tiny_data, verbose=0)


def _copy(record: training.RunRecord, where: Path) -> Path:
    target = where / record.directory.name
    shutil.copytree(record.directory, target)
    return target


def test_the_saved_model_carries_no_optimizer_state(record: training.RunRecord) -> None:
    with zipfile.ZipFile(record.directory / "model.keras") as archive:
        archive.extract("model.weights.h5", record.directory.parent / "weights")
    with h5py.File(record.directory.parent / "weights" / "model.weights.h5") as weights:
        assert "optimizer" not in weights and "layers" in weights
    assert record.load_model().count_params() == record.metrics["parameters"]


def test_rescoring_reproduces_the_record_and_verify_catches_drift(
    record: training.RunRecord, tiny_data: data.MarsData
) -> None:
    again, confusions = training.rescore(record, tiny_data)
    stored = record.per_image()
    for split in ("val", "test"):
        assert again[split]["miou"] == pytest.approx(record.metrics[split]["miou"], abs=1e-6)
        recorded = record.metrics[split]["per_class_iou"]
        assert again[split]["per_class_iou"] == pytest.approx(recorded, abs=1e-6)
        assert np.array_equal(confusions[split], stored[split])
        # One matrix per scored image, and its pixels are all the image's.
        assert stored[split].shape == (again[split]["images"], 5, 5)
        assert (stored[split].sum(axis=(1, 2)) == 64 * 128).all()
    training.verify(record, tiny_data)
    drifted = dict(record.metrics, val={**record.metrics["val"], "miou": record.val_miou + 0.01})
    with pytest.raises(ValueError, match="does not reproduce.*val miou.*experiments run tiny"):
        training.verify(run_records.RunRecord(**{**record.__dict__, "metrics": drifted}), tiny_data)


def test_verify_catches_per_image_counts_that_moved(
    record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path
) -> None:
    copy = _copy(record, tmp_path)
    counts = run_records.read_per_image(copy / run_records.PER_IMAGE_FILE)
    # Ten pixels of the first test image moved from its most common cell to another: the split's
    # scores barely move, the counts do.
    cell = np.unravel_index(np.argmax(counts["test"][0]), (5, 5))
    counts["test"][0][cell] -= 10
    counts["test"][0][(cell[0] + 1) % 5, cell[1]] += 10
    run_records.write_per_image(copy / run_records.PER_IMAGE_FILE, counts)
    with pytest.raises(ValueError, match="test: 10 pixels predicted otherwise than recorded"):
        training.verify(run_records.load_record(copy), tiny_data, tolerance=1e-6)


@pytest.mark.parametrize(
    "harm, problem",
    [
        (lambda d: (d / "metrics.json").unlink(), "no metrics.json"),
        (lambda d: (d / "DONE").write_bytes(b""), "DONE marker is 0 bytes"),
        (lambda d: (d / "config.json").write_text("{not json"), "config.json is not valid JSON"),
        (
            lambda d: (d / "model.keras").write_bytes(b"PK\x03\x04 cut"),
            "model.keras is not a whole",
        ),
        (
            lambda d: np.savez(d / "per_image.npz", val=np.zeros((2, 5, 5), np.int64)),
            "per_image.npz does not read back",
        ),
    ],
    ids=["no-metrics", "empty-done", "bad-config", "truncated-model", "per-image-dtype"],
)
def test_a_damaged_folder_is_skipped_named_and_trained_again(
    harm, problem: str, record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path
) -> None:
    good = _copy(record, tmp_path / "runs")
    damaged = tmp_path / "runs" / "zzz-damaged"
    shutil.copytree(record.directory, damaged)
    harm(damaged)
    assert problem in run_records.damage(damaged) and not run_records.is_complete(damaged)
    with pytest.warns(UserWarning, match=f"zzz-damaged holds a damaged run record: .*{problem}"):
        found = training.records(tmp_path / "runs")
    assert [r.directory for r in found] == [good], "the good record beside it is still listed"


def test_run_trains_a_damaged_record_again(
    record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path
) -> None:
    copy = _copy(record, tmp_path)
    (copy / "model.keras").write_bytes(b"PK\x03\x04 cut")  # a full disk during the save
    with pytest.warns(UserWarning, match="damaged record .*model.keras.* training it again"):
        again = training.run(training.Experiment.from_dict(TINY), tiny_data, tmp_path, verbose=0)
    assert again.directory == copy and run_records.damage(copy) is None
    assert again.metrics == record.metrics


def test_a_folder_with_done_alone_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "empty-run").mkdir()
    (tmp_path / "empty-run" / "DONE").write_text(run_records.DONE_TEXT)
    with pytest.warns(UserWarning, match="empty-run .*no config.json"):
        assert training.records(tmp_path) == []


def test_a_truncated_model_names_the_file_and_the_fix(
    record: training.RunRecord, tmp_path: Path
) -> None:
    copy = _copy(record, tmp_path)
    cut = run_records.RunRecord(**{**record.__dict__, "directory": copy})
    (copy / "model.keras").write_bytes((copy / "model.keras").read_bytes()[:200])
    with pytest.raises(
        ValueError, match=r"model.keras does not load .*delete .* and run the experiment"
    ):
        cut.load_model()


def test_a_kill_after_done_leaves_no_checkpoint_behind(
    record: training.RunRecord, tiny_data, tmp_path
) -> None:
    copy = _copy(record, tmp_path)
    (copy / loop.CHECKPOINT_DIR).mkdir()
    (copy / loop.CHECKPOINT_DIR / "epoch-0001.npz").write_bytes(b"left by a kill")
    training.run(training.Experiment.from_dict(TINY), tiny_data, tmp_path, verbose=0)
    assert not (copy / loop.CHECKPOINT_DIR).exists()


LOCK_HOLDER = """
import sys, time
from pathlib import Path
from marslib.core.locks import RunLock
with RunLock(Path(sys.argv[1])):
    print("locked", flush=True)
    time.sleep(60)
"""


def test_a_second_process_on_the_same_run_is_refused(
    record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path
) -> None:
    directory = tmp_path / record.directory.name
    directory.mkdir()
    holder = subprocess.Popen(
        [sys.executable, "-c", LOCK_HOLDER, str(directory)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(ValueError, match=f"another process \\(pid {holder.pid}\\) is training"):
            training.run(training.Experiment.from_dict(TINY), tiny_data, tmp_path, verbose=0)
        assert not run_records.is_complete(directory), "nothing was written into its folder"
    finally:
        holder.kill()
        holder.wait()
    time.sleep(0.1)
    finished = training.run(training.Experiment.from_dict(TINY), tiny_data, tmp_path, verbose=0)
    assert finished.metrics == record.metrics, "once the holder is gone, the run trains"


def test_a_shipped_reference_is_found_like_a_cached_record(
    record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setattr(run_records, "REFERENCES_DIR", tmp_path / "references")
    published = run_records.publish(record)
    assert published == tmp_path / "references" / record.directory.name
    assert sorted(p.name for p in published.iterdir()) == sorted(run_records.RECORD_FILES)
    # The shipped model file holds the same entries, deflated, and predicts as the trained one.
    shipped, trained = published / "model.keras", record.directory / "model.keras"
    with zipfile.ZipFile(shipped) as packed, zipfile.ZipFile(trained) as original:
        assert packed.namelist() == original.namelist()
        for entry in packed.infolist():
            assert entry.compress_type == zipfile.ZIP_DEFLATED
            assert packed.read(entry) == original.read(entry.filename)
    assert shipped.stat().st_size < trained.stat().st_size
    images = to_model_input(tiny_data.test_images[:2])
    np.testing.assert_array_equal(
        run_records.load_record(published).load_model().predict(images, verbose=0),
        record.load_model().predict(images, verbose=0),
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a shipped reference was trained again")

    monkeypatch.setattr(loop, "_train", refuse)
    empty_runs = tmp_path / "runs"
    found = training.run(training.Experiment.from_dict(TINY), tiny_data, empty_runs, verbose=0)
    assert found.directory == published and found.metrics == record.metrics
    assert (record.origin, found.origin) == (run_records.TRAINED, run_records.REFERENCE)
    assert run_records.load_record(record.directory).origin == run_records.RUNS_FOLDER
    experiment = training.Experiment.from_dict(TINY)
    assert run_records.find_finished(experiment, tiny_data, empty_runs) == published
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert run_records.load_record(published).current


def test_publish_command_copies_finished_records_and_names_the_rest(
    record: training.RunRecord, tiny_data: data.MarsData, tmp_path: Path, monkeypatch, capsys
) -> None:
    from marslib import cli
    from marslib import data as mars_data

    monkeypatch.setattr(run_records, "REFERENCES_DIR", tmp_path / "references")
    monkeypatch.setattr(mars_data, "load", lambda path=None: tiny_data)
    finished = {"unet_baseline": record.directory}
    monkeypatch.setattr(
        run_records,
        "run_directory",
        lambda experiment, loaded, runs_dir=None: finished.get(experiment.name, tmp_path / "none"),
    )
    assert cli.main(["experiments", "publish", "unet_baseline", "deeplabv3"]) == 0
    printed = capsys.readouterr().out
    target = tmp_path / "references" / record.directory.name
    assert f"published unet_baseline seed 0: {target}" in printed
    assert "not finished yet: deeplabv3 seed 0" in printed
    assert cli.main(["experiments", "publish", "deeplabv3"]) == 2
    assert "none of ['deeplabv3'] has a finished reference record" in capsys.readouterr().err
