"""Experiments and run records: a tiny experiment end to end, reuse, resume after a kill, determinism."""

from __future__ import annotations

import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import marslib
from marslib import checkpoint, cli, data, experiments, stats, train

TINY = {
    "name": "tiny",
    "model": "unet",
    "model_options": {"base_filters": 4, "depth": 2},
    "epochs": 3,
    "batch_size": 16,
    "patience": 2,
    "learning_rate": 0.003,
    "profile": "quick",
}
HISTORY_COLUMNS = ["epoch", "loss", "miou", "val_loss", "val_miou", "learning_rate"]


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory):
    """A private cache and runs folder for this module (the environment is restored afterwards)."""
    root = tmp_path_factory.mktemp("train")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MARSLIB_CACHE", str(root / "cache"))
        patch.setenv("MARSLIB_RUNS", str(root / "runs"))
        yield root


@pytest.fixture(scope="module")
def tiny_data(folders: Path) -> data.MarsData:
    return data.synthetic_data(seed=3, n_train=32, n_test=16)


@pytest.fixture(scope="module")
def tiny_record(tiny_data: data.MarsData, folders: Path) -> train.RunRecord:
    return train.run(train.Experiment.from_dict(TINY), tiny_data, folders / "first", verbose=0)


# ---------------------------------------------------------------- the experiment config


def test_profile_values_fill_what_is_left_open() -> None:
    quick = train.Experiment(name="a", model="unet", profile="quick")
    full = train.Experiment(name="a", model="unet", profile="full")
    for experiment, chosen in ((quick, marslib.PROFILES["quick"]), (full, marslib.PROFILES["full"])):
        assert experiment.epochs == chosen.epochs and experiment.batch_size == chosen.batch_size
        assert experiment.model_size == chosen.model_size and experiment.patience == chosen.patience
        assert experiment.train_limit == (chosen.train_limit or 0) and experiment.learning_rate == chosen.learning_rate
        assert experiment.schedule == chosen.schedule
    assert train.Experiment(name="a", model="unet", profile="quick", epochs=2).epochs == 2
    assert train.Experiment(name="a", model="unet", profile="quick", schedule="constant").schedule == "constant"
    assert (quick.schedule, full.schedule) == ("cosine", "constant")


def test_round_trip_through_a_dict_and_json() -> None:
    experiment = train.Experiment.from_dict({**TINY, "class_weights": [0, 1, 1, 1, 5.5]})
    again = train.Experiment.from_dict(json.loads(json.dumps(experiment.to_dict())))
    assert again == experiment and again.class_weights == (0.0, 1.0, 1.0, 1.0, 5.5)


def test_hash_follows_config_and_data_but_not_description() -> None:
    experiment = train.Experiment.from_dict(TINY)
    base = train.config_hash(experiment, "data1")
    assert len(base) == 10 and base == train.config_hash(train.Experiment.from_dict(TINY), "data1")
    assert train.config_hash(experiment, "data2") != base
    assert train.config_hash(train.Experiment.from_dict({**TINY, "seed": 1}), "data1") != base
    assert train.config_hash(train.Experiment.from_dict({**TINY, "learning_rate": 0.01}), "data1") != base
    assert train.config_hash(train.Experiment.from_dict({**TINY, "description": "other words"}), "data1") == base


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "resnet"}, "known models"),
        ({"variant": "shiny"}, "known variants"),
        ({"schedule": "step"}, "known schedules"),
        ({"profile": "huge"}, "quick"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"learning_rate": "1e-3"}, "learning_rate"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"class_weights": [1, 2]}, "5 finite"),
        ({"class_weights": {"method": "magic"}}, "method"),
        ({"model_options": {"wings": 2}}, "unknown model option"),
        ({"name": "a b"}, "name"),
        ({"colour": "red"}, "known fields"),
    ],
)
def test_bad_configs_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        train.Experiment.from_dict({**TINY, **change})


def test_named_experiments_follow_table_1() -> None:
    assert experiments.names() == [
        "unet_baseline", "deeplabv3", "wnet", "pspnet", "deeplabv3_bigrock", "attention_psp", "final",
    ]
    table = [(e.model, e.variant, e.loss, e.class_weights is not None) for e in experiments.experiments("quick")]
    assert table[:6] == [
        ("unet", "cleaned", "scce", False),
        ("deeplabv3", "cleaned", "scce", False),
        ("wnet", "cleaned", "weighted_scce", True),
        ("pspnet", "cleaned", "weighted_scce", True),
        ("deeplabv3", "augmented_bigrock", "weighted_scce", True),
        ("attention_psp", "augmented_bigrock", "weighted_focal+scce", True),
    ]
    final, best = experiments.get_experiment("final", "full"), experiments.get_experiment("attention_psp", "full")
    assert not final.validation and best.validation
    assert (final.model, final.variant, final.loss, final.class_weights) == (best.model, best.variant, best.loss, best.class_weights)
    assert final.profile == "full" and final.epochs == marslib.PROFILES["full"].epochs


def test_a_profile_object_or_its_name() -> None:
    assert experiments.get_experiment("wnet", marslib.profile("full")) == experiments.get_experiment("wnet", "full")


def test_unknown_experiment_lists_the_known_ones() -> None:
    with pytest.raises(ValueError, match="unet_baseline"):
        experiments.get_experiment("transformer", "quick")


def test_experiments_from_yaml_and_json_files(tmp_path: Path) -> None:
    (tmp_path / "more.yaml").write_text(
        "experiments:\n"
        "  - {base: pspnet, name: pspnet_slow, learning_rate: 0.0003}\n"
        "  - {name: unet_dice, model: unet, loss: dice, epochs: 2, profile: full}\n"
    )
    slow, dice = experiments.load_experiments(tmp_path / "more.yaml", profile="quick")
    assert slow.to_dict() == {**experiments.get_experiment("pspnet", "quick").to_dict(), "name": "pspnet_slow", "learning_rate": 0.0003}
    assert (dice.loss, dice.epochs, dice.profile, dice.batch_size) == ("dice", 2, "full", marslib.PROFILES["full"].batch_size)
    (tmp_path / "one.json").write_text(json.dumps(TINY))
    assert experiments.load_experiments(tmp_path / "one.json") == [train.Experiment.from_dict(TINY)]
    (tmp_path / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="not valid JSON"):
        experiments.load_experiments(tmp_path / "bad.json")
    with pytest.raises(ValueError, match=r"\.json, \.yaml"):
        experiments.load_experiments(tmp_path / "more.txt")


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
    state = checkpoint.TrainingState(history=[{"epoch": 0, "val_miou": 0.5}], best_epoch=0, best_value=0.5)
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

    experiment = train.Experiment.from_dict({**TINY, "schedule": "cosine", "epochs": 4})
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.AdamW(learning_rate=experiment.learning_rate), "mse")
    train.set_schedule(model, experiment, steps_per_epoch=5)
    rates = []
    for step in (0, 10, 20):
        model.optimizer.iterations.assign(step)
        rates.append(float(model.optimizer.learning_rate))
    np.testing.assert_allclose(rates, [0.003, 0.0015, 0.0], atol=1e-7)


# ---------------------------------------------------------------- end to end


def test_tiny_experiment_writes_a_complete_record(tiny_record: train.RunRecord, tiny_data: data.MarsData) -> None:
    directory = tiny_record.directory
    assert directory.name == f"tiny-{train.config_hash(tiny_record.experiment, tiny_data.fingerprint)}"
    assert all((directory / name).exists() for name in train.RECORD_FILES)
    assert not (directory / train.CHECKPOINT_DIR).exists()
    history = pd.read_csv(directory / "history.csv")
    assert list(history.columns[:6]) == HISTORY_COLUMNS and len(history) == tiny_record.metrics["epochs_run"] <= 3
    best = int(history["val_miou"].idxmax())
    assert tiny_record.metrics["best_epoch"] == best
    assert history["loss"].iloc[-1] < history["loss"].iloc[0], "a tiny model should still lower its loss"
    for split in ("val", "test"):
        scores = tiny_record.metrics[split]
        assert 0.0 <= scores["miou"] <= 1.0
        assert list(scores["per_class_iou"]) == ["Soil", "Bedrock", "Sand", "Big Rock"]
        assert scores["miou"] == pytest.approx(np.mean(list(scores["per_class_iou"].values())))
    assert tiny_record.metrics["test"]["images"] == 4  # the public quarter of 16 test images
    provenance = tiny_record.provenance
    assert provenance["data_source"] == "synthetic" and provenance["data_fingerprint"] == tiny_data.fingerprint
    assert provenance["profile"] == "quick" and provenance["device"].startswith("CPU")
    assert provenance["marslib_version"] == marslib.__version__ and provenance["train_seconds"] > 0


def test_saved_model_gives_the_recorded_test_score_on_the_public_quarter(
    tiny_record: train.RunRecord, tiny_data: data.MarsData
) -> None:
    from marslib import metrics, submission
    from marslib.data import to_model_input

    model = tiny_record.load_model()
    predicted = model.predict(to_model_input(tiny_data.test_images), verbose=0).argmax(axis=-1)
    public = submission.public_indices(len(tiny_data.test_masks))
    assert len(public) == 4
    on_public = metrics.competition_miou(tiny_data.test_masks[public], predicted[public])
    assert on_public == pytest.approx(tiny_record.test_miou)
    private = np.setdiff1d(np.arange(16), public)
    assert metrics.competition_miou(tiny_data.test_masks[private], predicted[private]) != pytest.approx(on_public)


def test_validation_images_are_the_cleaned_val_split(tiny_data: data.MarsData) -> None:
    from marslib import cleaning

    train_indices, val_indices = train.split_indices(train.Experiment.from_dict(TINY), tiny_data)
    split_train, split_val = data.split(tiny_data, val_fraction=0.2, seed=0)
    np.testing.assert_array_equal(train_indices, split_train)
    np.testing.assert_array_equal(val_indices, split_val[~np.isin(split_val, cleaning.alien_indices(tiny_data.train_masks))])
    everything, none = train.split_indices(train.Experiment.from_dict({**TINY, "validation": False}), tiny_data)
    assert none is None and len(everything) == len(tiny_data.train_images)


def test_named_class_weights_come_from_the_training_masks(tiny_data: data.MarsData) -> None:
    weights = {"method": "balanced", "ignore_background": True, "cap": 10.0}
    experiment = train.Experiment.from_dict({**TINY, "loss": "weighted_scce", "class_weights": weights})
    split = train._training_split(experiment, tiny_data)
    expected = stats.class_weights(split.train_masks, "balanced", ignore_background=True, cap=10.0)
    np.testing.assert_array_equal(train._class_weights(experiment, split.train_masks), expected)
    assert expected[0] == 0


def test_a_finished_record_is_loaded_not_retrained(
    tiny_record: train.RunRecord, tiny_data: data.MarsData, folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a finished experiment was trained again")

    monkeypatch.setattr(train, "_fit", refuse)
    mtime = (tiny_record.directory / "model.keras").stat().st_mtime_ns
    again = train.run(train.Experiment.from_dict(TINY), tiny_data, folders / "first", verbose=0)
    assert again.metrics == tiny_record.metrics and again.directory == tiny_record.directory
    assert (tiny_record.directory / "model.keras").stat().st_mtime_ns == mtime
    assert train.find_record(tiny_record.directory).metrics == tiny_record.metrics


def test_same_seed_same_data_same_record(tiny_record: train.RunRecord, tiny_data: data.MarsData, folders: Path) -> None:
    second = train.run(train.Experiment.from_dict(TINY), tiny_data, folders / "second", verbose=0)
    assert second.metrics == tiny_record.metrics
    pd.testing.assert_frame_equal(second.history[HISTORY_COLUMNS], tiny_record.history[HISTORY_COLUMNS])


def test_a_killed_run_resumes_to_the_same_record(
    tiny_record: train.RunRecord, tiny_data: data.MarsData, folders: Path, tmp_path: Path
) -> None:
    """Train through the command line in a subprocess, kill it (SIGKILL) once its first epoch is
    saved, then run the same command again: the record equals the uninterrupted run's."""
    data_file = data.save_npz(tiny_data, tmp_path / "tiny.npz")
    config = tmp_path / "tiny.json"
    config.write_text(json.dumps(TINY))
    runs = tmp_path / "runs"
    command = [sys.executable, "-m", "marslib", "experiments", "run", "--config", str(config),
               "--runs-dir", str(runs), "--data", str(data_file), "--verbose", "0"]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    directory = runs / tiny_record.directory.name
    state_file = directory / train.CHECKPOINT_DIR / "state.json"
    deadline = time.monotonic() + 120
    while not (state_file.exists() and json.loads(state_file.read_text())["history"]):
        assert child.poll() is None, "the training process ended before its first epoch was saved"
        assert time.monotonic() < deadline, "no epoch was saved within two minutes"
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert not train.is_complete(directory), "the run finished before it could be killed"
    saved = len(json.loads(state_file.read_text())["history"])
    assert 1 <= saved < tiny_record.metrics["epochs_run"]

    assert cli.main(command[3:]) == 0
    resumed = train.load_record(directory)
    assert resumed.metrics["val"] == tiny_record.metrics["val"]
    assert resumed.metrics["test"] is None  # the file format has no test labels
    assert resumed.metrics["best_epoch"] == tiny_record.metrics["best_epoch"]
    assert resumed.metrics["epochs_run"] == tiny_record.metrics["epochs_run"]
    pd.testing.assert_frame_equal(resumed.history[HISTORY_COLUMNS], tiny_record.history[HISTORY_COLUMNS])


def test_tensorboard_logs(tiny_data: data.MarsData, tmp_path: Path) -> None:
    """Written per epoch where the tensorboard package is installed; a clear error where it is not."""
    experiment = train.Experiment.from_dict({**TINY, "epochs": 1})
    if importlib.util.find_spec("tensorboard") is None:
        with pytest.raises(ValueError, match="pip install tensorboard"):
            train.run(experiment, tiny_data, tmp_path, verbose=0, tensorboard=True)
        return
    import tensorflow as tf

    record = train.run(experiment, tiny_data, tmp_path, verbose=0, tensorboard=True)
    events = [str(p) for p in (record.directory / "tensorboard").glob("events.out.tfevents*")]
    logged = [(v.tag, e.step) for path in events for e in tf.compat.v1.train.summary_iterator(path) for v in e.summary.value]
    assert ("val_miou", 0) in logged and ("loss", 0) in logged


# ---------------------------------------------------------------- the command line


def test_cli_lists_and_shows_experiments(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["experiments", "list", "--profile", "quick"]) == 0
    listed = capsys.readouterr().out
    assert all(name in listed for name in experiments.names())
    assert cli.main(["experiments", "show", "pspnet", "--profile", "full"]) == 0
    assert json.loads(capsys.readouterr().out) == experiments.get_experiment("pspnet", "full").to_dict()


def test_cli_unknown_experiment_names_the_known_ones(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["experiments", "show", "nope"]) == 2
    assert "attention_psp" in capsys.readouterr().err


@pytest.mark.parametrize("command", ["experiments", "evaluate", "submit", "score"])
def test_cli_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stop:
        cli.main([command, "--help"])
    assert stop.value.code == 0 and "usage" in capsys.readouterr().out
