"""An experiment's config: profile values filled in, a JSON round trip, and every bad field refused
when the config is made, before any data is loaded or any file written."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import TINY

import marslib
from marslib import training


def test_profile_values_fill_what_is_left_open() -> None:
    quick = training.Experiment(name="a", model="unet", profile="quick")
    full = training.Experiment(name="a", model="unet", profile="full")
    for experiment, chosen in (
        (quick.resolved(), marslib.PROFILES["quick"]),
        (full.resolved(), marslib.PROFILES["full"]),
    ):
        assert experiment.epochs == chosen.epochs and experiment.batch_size == chosen.batch_size
        assert experiment.model_size == chosen.model_size and experiment.patience == chosen.patience
        assert (
            experiment.train_limit == (chosen.train_limit or 0)
            and experiment.learning_rate == chosen.learning_rate
        )
        assert experiment.schedule == chosen.schedule
    assert training.Experiment(name="a", model="unet", profile="quick", epochs=2).epochs == 2
    assert (
        training.Experiment(name="a", model="unet", profile="quick", schedule="constant")
        .resolved()
        .schedule
        == "constant"
    )
    assert (quick.resolved().schedule, full.resolved().schedule) == (
        "cosine",
        "constant_then_cosine",
    )


def test_an_experiment_keeps_what_its_caller_set_and_resolves_the_rest_when_asked() -> None:
    quick = training.Experiment(name="a", model="unet", profile="quick", epochs=2)
    assert (quick.epochs, quick.batch_size, quick.schedule) == (2, None, None)
    # Replacing the profile changes every value that follows from it, not the caller's own.
    full = dataclasses.replace(quick, profile="full").resolved()
    assert (full.epochs, full.batch_size, full.model_size, full.patience) == (2, 64, "full", 0)
    assert (full.learning_rate, full.schedule, full.mixed_precision) == (
        1e-3,
        "constant_then_cosine",
        True,
    )
    # The record's config and the run key hold every value resolved, so they do not move.
    assert quick.to_dict() == quick.resolved().to_dict()
    assert quick.to_dict()["batch_size"] == 16 and quick.to_dict()["train_limit"] == 1000
    once = quick.resolved()
    assert once.resolved() is once and once != quick


def test_round_trip_through_a_dict_and_json() -> None:
    experiment = training.Experiment.from_dict(
        {**TINY, "loss": "weighted_scce", "class_weights": [0, 1, 1, 1, 5.5]}
    )
    again = training.Experiment.from_dict(json.loads(json.dumps(experiment.to_dict())))
    # The dict holds every value resolved (a record's config): it reads back as the resolved run.
    assert again == experiment.resolved() and again.class_weights == (0.0, 1.0, 1.0, 1.0, 5.5)
    assert again.to_dict() == experiment.to_dict()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"model": "resnet"}, "known models"),
        ({"variant": "shiny"}, "known variants"),
        ({"loss": "sce"}, "unknown loss 'sce'"),
        ({"loss": "weighted_scce"}, "need class_weights"),
        ({"class_weights": [0, 1, 1, 1, 1]}, "no 'weighted_' term"),
        ({"loss": "weighted_scce", "class_weights": [0, 0, 0, 0, 0]}, "all zero"),
        ({"loss": "weighted_scce", "class_weights": "balanced"}, "method such as"),
        ({"loss_options": {"gamma": 3}}, "applies to no term"),
        ({"loss_options": {"alpha": 3}}, "unknown loss option"),
        ({"augment": "flip"}, "augment must be None or one of"),
        ({"model_options": "big"}, "must be a mapping"),
        ({"task": "depth"}, "known tasks"),
        ({"task": "background", "loss": "dice"}, "plain cross-entropy"),
        ({"schedule": "step"}, "known schedules"),
        ({"profile": "huge"}, "quick"),
        ({"epochs": 0}, "epochs"),
        ({"batch_size": 2.5}, "batch_size"),
        ({"learning_rate": "1e-3"}, "learning_rate"),
        ({"val_fraction": 1.0}, "val_fraction"),
        ({"class_weights": [1, 2]}, "5 numbers"),
        ({"class_weights": {"method": "magic"}}, "method"),
        ({"model_options": {"wings": 2}}, "unknown model option"),
        ({"name": "a b"}, "name"),
        ({"name": 123}, "name must be a non-empty text"),
        ({"colour": "red"}, "known fields"),
    ],
)
def test_bad_configs_are_refused(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        training.Experiment.from_dict({**TINY, **change})


def test_a_bad_config_writes_nothing(folders: Path) -> None:
    with pytest.raises(ValueError, match="unknown loss"):
        training.run(training.Experiment.from_dict({**TINY, "loss": "focall"}))
    assert not (folders / "runs").exists() or not any((folders / "runs").iterdir())
    assert not (folders / "cache").exists() or not any((folders / "cache").iterdir())


def test_making_and_reading_experiments_imports_no_tensorflow(tmp_path: Path) -> None:
    code = (
        "import sys, json\n"
        "from marslib import training\n"
        "from marslib.training import registry\n"
        "configs = [e.to_dict() for e in registry.experiments('quick')]\n"
        "again = [training.Experiment.from_dict(c) for c in configs]\n"
        "print(len(again), 'tensorflow' in sys.modules, 'keras' in sys.modules)\n"
    )
    found = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert found.stdout.split() == [str(len(training.names())), "False", "False"]
