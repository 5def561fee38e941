"""A finished run's record written to its folder: scores, history, model and provenance, DONE
last (`marslib.training.run_records` reads it back).

    write_record(model, experiment, data, split, state, directory, started, on_gpu, verbose)
"""

from __future__ import annotations

import csv
import io
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import keras
import tensorflow as tf

import marslib
from marslib.core import versions
from marslib.core.files import atomic_path, write_json, write_text
from marslib.training.record_scores import score_splits
from marslib.training.run_records import DONE_TEXT, PER_IMAGE_FILE, write_per_image

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.training.checkpoint import TrainingState
    from marslib.training.experiment import Experiment
    from marslib.training.splits import TrainingSplit


def write_record(
    model: keras.Model,
    experiment: Experiment,
    data: MarsData,
    split: TrainingSplit,
    state: TrainingState,
    directory: Path,
    started: float,
    on_gpu: bool,
    verbose: int,
) -> None:
    """Evaluate the trained model and write the record's files, DONE last.

    The scores are those of `marslib.training.record_scores.score_splits`; `started` is the
    `time.perf_counter()` at which this process began the run, `split` the images it trained on.
    """
    found, confusions = score_splits(model, experiment, data, progress=verbose > 0)
    scores = {
        "val": found["val"],
        "test": found["test"],
        "best_epoch": state.best_epoch,
        "epochs_run": state.epoch,
        "parameters": int(model.count_params()),
    }
    _write_history(directory / "history.csv", state.history)
    with atomic_path(directory / "model.keras") as temporary:
        _without_optimizer(model).save(temporary)
    write_json(directory / "metrics.json", scores)
    write_per_image(directory / PER_IMAGE_FILE, confusions)
    write_json(
        directory / "provenance.json",
        {
            "marslib_version": marslib.__version__,
            "command": _command(),
            "system": platform.platform(),  # no host name: records are published
            "code_versions": versions.versions(versions.RUN_PARTS),
            "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "data_source": data.source,
            "data_fingerprint": data.fingerprint,
            "profile": experiment.profile,
            "device": describe_device(),
            "mixed_precision": model.dtype_policy.name != "float32",
            "policy": model.dtype_policy.name,
            "jit_compile": bool(on_gpu and experiment.jit_compile),
            "train_images": int(len(split.train_images)),
            "train_seconds": round(state.seconds, 2),
            "wall_seconds_last_process": round(time.perf_counter() - started, 2),
            "finished": datetime.now(UTC).isoformat(timespec="seconds"),
        },
    )
    write_text(directory / "DONE", DONE_TEXT)


def _without_optimizer(model: keras.Model) -> keras.Model:
    """A copy of the trained model for the record: the same layers and weights, no optimizer
    state (the record is for prediction; resuming uses the checkpoint)."""
    copy = type(model).from_config(model.get_config())  # uncompiled: no optimizer to save
    copy.set_weights(model.get_weights())
    return copy


def _command() -> str:
    """How this run was started, for the provenance: the command line, or the program's name."""
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    if program == "__main__.py" and "marslib" in sys.argv[0]:
        return " ".join(["python -m marslib", *sys.argv[1:]])
    if program == "ipykernel_launcher.py":
        return "a notebook (training.run)"
    return " ".join([program, *sys.argv[1:]])


def describe_device() -> str:
    """The accelerator TensorFlow trains on, e.g. "GPU: NVIDIA A100" or "CPU: x86_64, 2 cores"."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU: {platform.machine()}, {os.cpu_count()} cores"


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    columns = list(dict.fromkeys(key for row in history for key in row))
    text = io.StringIO(newline="")
    writer = csv.DictWriter(text, fieldnames=columns)
    writer.writeheader()
    writer.writerows(history)
    write_text(path, text.getvalue())
