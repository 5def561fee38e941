"""The trainer: a tiny experiment end to end, reuse, resume after a kill, determinism."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import TINY
from sklearn.utils.class_weight import compute_class_weight

import marslib
from marslib import cli, data, training
from marslib import data as mars_data
from marslib.training import checkpoint, epochs, loop, registry, run_records, splits

HISTORY_COLUMNS = ["epoch", "loss", "miou", "val_loss", "val_miou", "learning_rate"]


@pytest.fixture(scope="module")
def tiny_record(tiny_data: data.MarsData, module_folders: Path) -> training.RunRecord:
    return training.run(
        training.Experiment.from_dict(TINY), tiny_data, module_folders / "first", verbose=0
    )


# ---------------------------------------------------------------- the training loop's bookkeeping


def test_early_stopping_counts_epochs_since_the_best() -> None:
    state = checkpoint.TrainingState()
    for epoch, value in enumerate([0.1, 0.3, 0.2, 0.25]):
        state.history.append({"epoch": epoch, "val_miou": value})
        if state.improves(value):
            state.best_epoch, state.best_value = epoch, value
    assert (state.best_epoch, state.epoch) == (1, 4)
    assert state.stopped(patience=2) and not state.stopped(patience=3)


def test_checkpoint_ignores_files_a_kill_left_behind(tmp_path: Path) -> None:
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2), keras.layers.Dropout(0.5)])
    model.compile(keras.optimizers.AdamW(), "mse")
    saver = checkpoint.Checkpoint(tmp_path)
    state = checkpoint.TrainingState(
        history=[{"epoch": 0, "val_miou": 0.5}], best_epoch=0, best_value=0.5
    )
    saver.save(model, state, best=True)
    saved = [np.array(v) for v in model.variables]
    # A later epoch wrote its arrays, then was killed before state.json named them.
    for variable in model.variables:
        variable.assign(np.ones(variable.shape, dtype=variable.dtype))
    checkpoint.save_arrays(tmp_path / "epoch-0002.npz", checkpoint.state_variables(model))
    checkpoint.save_arrays(tmp_path / "best-0001.npz", model.variables)
    loaded = saver.load()
    assert loaded == state
    assert sorted(p.name for p in tmp_path.glob("*.npz")) == ["best-0000.npz", "epoch-0001.npz"]
    saver.restore(model, loaded)
    for variable, expected in zip(model.variables, saved):
        np.testing.assert_array_equal(np.array(variable), expected)


def test_cosine_schedule_decays_to_zero_over_all_steps() -> None:
    import keras

    experiment = training.Experiment.from_dict({**TINY, "schedule": "cosine", "epochs": 4})
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.AdamW(learning_rate=experiment.learning_rate), "mse")
    training.set_schedule(model, experiment, steps_per_epoch=5)
    rates = []
    for step in (0, 10, 20):
        model.optimizer.iterations.assign(step)
        rates.append(float(model.optimizer.learning_rate))
    np.testing.assert_allclose(rates, [0.003, 0.0015, 0.0], atol=1e-7)


# ---------------------------------------------------------------- end to end


def test_tiny_experiment_writes_a_complete_record(
    tiny_record: training.RunRecord, tiny_data: data.MarsData
) -> None:
    directory = tiny_record.directory
    assert (
        directory.name
        == f"tiny-{run_records.run_key(tiny_record.experiment, tiny_data.fingerprint)}"
    )
    assert all((directory / name).exists() for name in run_records.RECORD_FILES)
    assert not (directory / loop.CHECKPOINT_DIR).exists()
    history = pd.read_csv(directory / "history.csv")
    assert (
        list(history.columns[:6]) == HISTORY_COLUMNS
        and len(history) == tiny_record.metrics["epochs_run"] <= 3
    )
    best = int(history["val_miou"].idxmax())
    assert tiny_record.metrics["best_epoch"] == best
    assert history["loss"].iloc[-1] < history["loss"].iloc[0], (
        "a tiny model should still lower its loss"
    )
    for split in ("val", "test"):
        scores = tiny_record.metrics[split]
        assert 0.0 <= scores["miou"] <= 1.0
        assert list(scores["per_class_iou"]) == ["Soil", "Bedrock", "Sand", "Big Rock"]
        assert scores["miou"] == pytest.approx(np.mean(list(scores["per_class_iou"].values())))
    assert tiny_record.metrics["test"]["images"] == 4  # the public quarter of 16 test images
    provenance = tiny_record.provenance
    assert (
        provenance["data_source"] == "synthetic"
        and provenance["data_fingerprint"] == tiny_data.fingerprint
    )
    assert provenance["profile"] == "quick" and provenance["device"].startswith("CPU")
    assert provenance["marslib_version"] == marslib.__version__ and provenance["train_seconds"] > 0


def test_saved_model_gives_the_recorded_test_score_on_the_public_quarter(
    tiny_record: training.RunRecord, tiny_data: data.MarsData
) -> None:
    from marslib import metrics
    from marslib.data import to_model_input

    model = tiny_record.load_model()
    predicted = model.predict(to_model_input(tiny_data.test_images), verbose=0).argmax(axis=-1)
    public = mars_data.public_indices(len(tiny_data.test_masks))
    assert len(public) == 4
    on_public = metrics.competition_miou(tiny_data.test_masks[public], predicted[public])
    assert on_public == pytest.approx(tiny_record.test_miou)
    private = np.setdiff1d(np.arange(16), public)
    assert metrics.competition_miou(
        tiny_data.test_masks[private], predicted[private]
    ) != pytest.approx(on_public)


def test_validation_images_are_the_cleaned_val_split(tiny_data: data.MarsData) -> None:
    from marslib.data import cleaning

    train_indices, val_indices = training.split_indices(
        training.Experiment.from_dict(TINY), tiny_data
    )
    split_train, split_val = data.split(tiny_data, val_fraction=0.2, seed=0)
    np.testing.assert_array_equal(train_indices, split_train)
    np.testing.assert_array_equal(
        val_indices, split_val[~np.isin(split_val, cleaning.alien_indices(tiny_data.train_masks))]
    )
    everything, none = training.split_indices(
        training.Experiment.from_dict({**TINY, "validation": False}), tiny_data
    )
    assert none is None and len(everything) == len(tiny_data.train_images)


def test_named_class_weights_come_from_the_training_masks(tiny_data: data.MarsData) -> None:
    weights = {"method": "balanced", "ignore_background": True, "cap": 10.0}
    experiment = training.Experiment.from_dict(
        {**TINY, "loss": "weighted_scce", "class_weights": weights}
    )
    split = splits.training_split(experiment, tiny_data)
    terrain = split.train_masks[split.train_masks != 0]  # background is left out
    balanced = compute_class_weight("balanced", classes=np.arange(1, 5), y=terrain)
    np.testing.assert_allclose(
        splits.loss_weights(experiment, split.train_masks),
        [0.0, *np.minimum(balanced, 10.0)],
        rtol=1e-6,
    )


def test_a_finished_record_is_loaded_not_retrained(
    tiny_record: training.RunRecord,
    tiny_data: data.MarsData,
    module_folders: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished experiment was trained again")

    monkeypatch.setattr(epochs, "train_epochs", refuse)
    mtime = (tiny_record.directory / "model.keras").stat().st_mtime_ns
    again = training.run(
        training.Experiment.from_dict(TINY), tiny_data, module_folders / "first", verbose=0
    )
    assert again.metrics == tiny_record.metrics and again.directory == tiny_record.directory
    assert (tiny_record.directory / "model.keras").stat().st_mtime_ns == mtime
    assert training.find_record(tiny_record.directory).metrics == tiny_record.metrics


def test_same_seed_same_data_same_record(
    tiny_record: training.RunRecord, tiny_data: data.MarsData, module_folders: Path
) -> None:
    second = training.run(
        training.Experiment.from_dict(TINY), tiny_data, module_folders / "second", verbose=0
    )
    assert second.metrics == tiny_record.metrics
    pd.testing.assert_frame_equal(
        second.history[HISTORY_COLUMNS], tiny_record.history[HISTORY_COLUMNS]
    )


def test_a_killed_run_resumes_to_the_same_record(
    tiny_record: training.RunRecord, tiny_data: data.MarsData, module_folders: Path, tmp_path: Path
) -> None:
    """Train through the command line in a subprocess, kill it (SIGKILL) once its first epoch is
    saved, then run the same command again: the record equals the uninterrupted run's."""
    data_file = data.save_npz(tiny_data, tmp_path / "tiny.npz")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    runs = tmp_path / "runs"
    command = [
        sys.executable,
        "-m",
        "marslib",
        "experiments",
        "run",
        "--config",
        str(config),
        "--runs-dir",
        str(runs),
        "--data",
        str(data_file),
        "--verbose",
        "0",
    ]
    child = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy()
    )
    # the file is named by its content, so its run folder differs from the synthetic set's
    directory = training.run_directory(tiny_record.experiment, data.load(data_file), runs)
    state_file = directory / loop.CHECKPOINT_DIR / "state.json"
    deadline = time.monotonic() + 120
    while not (state_file.exists() and json.loads(state_file.read_text())["history"]):
        assert child.poll() is None, "the training process ended before its first epoch was saved"
        assert time.monotonic() < deadline, "no epoch was saved within two minutes"
        time.sleep(0.02)
    child.kill()  # SIGKILL on POSIX, TerminateProcess on Windows: no clean-up either way
    child.wait()
    assert not run_records.is_complete(directory), "the run finished before it could be killed"
    saved = len(json.loads(state_file.read_text())["history"])
    assert 1 <= saved < tiny_record.metrics["epochs_run"]

    assert cli.main(command[3:]) == 0
    resumed = training.load_record(directory)
    assert resumed.metrics["val"] == tiny_record.metrics["val"]
    assert resumed.metrics["test"] is None  # the file format has no test labels
    assert resumed.metrics["best_epoch"] == tiny_record.metrics["best_epoch"]
    assert resumed.metrics["epochs_run"] == tiny_record.metrics["epochs_run"]
    pd.testing.assert_frame_equal(
        resumed.history[HISTORY_COLUMNS], tiny_record.history[HISTORY_COLUMNS]
    )


# ---------------------------------------------------------------- the command line


def test_cli_lists_and_shows_experiments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["experiments", "list", "--profile", "quick"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in registry.names())
    assert cli.main(["experiments", "show", "pspnet", "--profile", "full"]) == 0
    assert json.loads(capsys.readouterr().out) == registry.get("pspnet", "full").to_dict()


def test_cli_unknown_experiment_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["experiments", "show", "nope"]) == 2
    assert "attention_psp" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["experiments", "evaluate", "submit", "score"])
def test_cli_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--help"])
    assert stop.value.code == 0 and "usage" in capsys.readouterr().out
