"""Experiments as data, results as records: train a model once, reuse the record ever after.

An `Experiment` is a small frozen config: the model and its options, the training dataset
variant, the loss and its class weights, the optimizer (AdamW), learning rate and schedule,
epochs, batch size, early stopping, seed and profile. `run` trains it and writes a record::

    runs/<name>-<hash>/
        config.json       the experiment, every number resolved (profile values filled in)
        history.csv       one row per epoch: loss, miou, val_loss, val_miou, learning rate, seconds
        metrics.json      validation and (where the test labels are known) test mIoU and per-class IoU;
                          the test scores are the local leaderboard's public score: the fixed
                          public quarter of the test set (`submission.public_indices`)
        model.keras       the trained model (best validation epoch; last epoch without validation)
        provenance.json   marslib version, data source and fingerprint, profile, device, times
        DONE              written last: the record is complete

`<hash>` is a short hash of the config and of the data's fingerprint, so the synthetic set and the
real file never share a record. Running an experiment whose record is complete loads it instead of
training again.

Resuming. After every epoch the whole training state (model and optimizer variables, including
the random-number state of dropout layers) and the history are saved in ``checkpoint/``. A run
that was killed picks up after its last finished epoch and ends with the record it would have had
(on a CPU, bit for bit): each epoch draws its batches and its random numbers from a seed derived
from (seed, epoch), never from state left over by earlier epochs, so epoch 7 sees the same batches
whether or not the process was restarted after epoch 6. This is also why the loop calls
``model.fit`` once per epoch: `keras.callbacks.BackupAndRestore` restores weights and the epoch
counter but not the input pipeline's shuffling state, so a resumed run would see other batches.

Devices. On a CPU `run` switches on TensorFlow's op determinism, so the same seed, data and
profile give the same record. On a GPU the model is built under the `mixed_float16` policy and
its training step XLA-compiled where the experiment asks for it (the full profile does; set
``mixed_precision=False`` or ``jit_compile=False`` to switch them off).
"""

from __future__ import annotations

import csv
import dataclasses
import hashlib
import importlib.util
import json
import os
import platform
import shutil
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

import marslib
from marslib import paths, stats, submission, variants
from marslib.checkpoint import Checkpoint, TrainingState, read_json, write_json
from marslib.classes import NUM_CLASSES

if TYPE_CHECKING:
    from marslib.data import MarsData

SCHEDULES: tuple[str, ...] = ("constant", "cosine")
CHECKPOINT_DIR = "checkpoint"
RECORD_FILES: tuple[str, ...] = (
    "config.json",
    "history.csv",
    "metrics.json",
    "model.keras",
    "provenance.json",
    "DONE",
)


# ---------------------------------------------------------------- the experiment


@dataclass(frozen=True)
class Experiment:
    """One training recipe. Fields left None take the profile's value when the object is made.

    Attributes:
        name: short identifier (letters, digits, "_", "-", "."); the run folder starts with it.
        model: a name from `marslib.models.names()`.
        variant: training dataset, a name from `marslib.variants.names()`.
        loss: a loss spec for `marslib.losses.get`, e.g. "scce" or "weighted_focal+scce".
        class_weights: None; five per-class weights; or a method computed from the training
            masks with `marslib.stats.class_weights`, e.g.
            ``{"method": "balanced", "ignore_background": True, "cap": 10.0}``.
        model_options: keyword options for `marslib.models.build` (override the size's values).
        loss_options: keyword options for `marslib.losses.get`.
        augment: on-the-fly augmentation of `marslib.augment.pipeline.make_dataset` (None: none).
        learning_rate: AdamW's (peak) learning rate (None: the profile's).
        weight_decay: AdamW's decoupled weight decay.
        schedule: "constant", or "cosine" (decay to 0 over all epochs); None: the profile's.
        clipnorm: clip each gradient to this norm (None: no clipping).
        profile: "quick" or "full" ("auto" is resolved when the object is made).
        model_size: "quick" or "full" size table of the model (None: the profile's).
        epochs: most epochs (None: the profile's).
        batch_size: training batch size (None: the profile's).
        patience: stop after this many epochs without a better validation mIoU (None: the profile's).
        train_limit: train on at most this many images, a seeded random subset (None: the
            profile's; 0: no limit).
        mixed_precision: `mixed_float16` on a GPU (None: the profile's; never used on a CPU).
        jit_compile: XLA-compile the training step on a GPU (None: the profile's; never on a CPU).
        seed: seed of the split, the variant, the subset, the weights' initialisation and the batches.
        validation: hold out a validation split (False: train on everything, the report's final step).
        val_fraction: share of the training images held out for validation.
        description: a human title for tables and listings (not part of the hash).
    """

    name: str
    model: str
    variant: str = "cleaned"
    loss: str = "scce"
    class_weights: tuple[float, ...] | dict[str, Any] | None = None
    model_options: dict[str, Any] = field(default_factory=dict)
    loss_options: dict[str, Any] = field(default_factory=dict)
    augment: str | None = None
    learning_rate: float | None = None
    weight_decay: float = 1e-4
    schedule: str | None = None
    clipnorm: float | None = None
    profile: str = "quick"
    model_size: str | None = None
    epochs: int | None = None
    batch_size: int | None = None
    patience: int | None = None
    train_limit: int | None = None
    mixed_precision: bool | None = None
    jit_compile: bool | None = None
    seed: int = 0
    validation: bool = True
    val_fraction: float = 0.2
    description: str = ""

    def __post_init__(self) -> None:
        from marslib import models

        if not self.name or not all(ch.isalnum() or ch in "_-." for ch in self.name):
            raise ValueError(f"experiment name must be letters, digits, '_', '-' or '.', got {self.name!r}")
        if self.model not in models.names():
            raise ValueError(f"unknown model {self.model!r}; known models: {models.names()}")
        variants.get(self.variant)
        chosen = marslib.profile(self.profile)
        resolved = {
            "profile": chosen.name,
            "model_size": chosen.model_size,
            "epochs": chosen.epochs,
            "batch_size": chosen.batch_size,
            "patience": chosen.patience,
            "train_limit": chosen.train_limit or 0,
            "mixed_precision": chosen.mixed_precision,
            "jit_compile": chosen.jit_compile,
            "learning_rate": chosen.learning_rate,
            "schedule": chosen.schedule,
        }
        for key, default in resolved.items():
            if key == "profile" or getattr(self, key) is None:
                object.__setattr__(self, key, default)
        if self.schedule not in SCHEDULES:
            raise ValueError(f"unknown schedule {self.schedule!r}; known schedules: {list(SCHEDULES)}")
        if self.model_size not in models.SIZES[self.model]:
            raise ValueError(f"unknown model_size {self.model_size!r}; known sizes: {list(models.SIZES[self.model])}")
        unknown = sorted(set(self.model_options) - set(models.options(self.model)))
        if unknown:
            raise ValueError(f"unknown model option(s) {unknown} for {self.model}; it accepts {models.options(self.model)}")
        if self.model_options.get("deep_supervision"):
            raise ValueError("deep_supervision gives a model two outputs; experiments train single-output models")
        object.__setattr__(self, "class_weights", _check_class_weights(self.class_weights))
        for key, low in (("epochs", 1), ("batch_size", 1), ("patience", 1), ("train_limit", 0), ("seed", 0)):
            value = getattr(self, key)
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{key} must be an integer of at least {low}, got {value!r}")
        for key in ("learning_rate", "weight_decay", "val_fraction", "clipnorm"):
            value = getattr(self, key)
            if value is None and key == "clipnorm":
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < 0:
                raise ValueError(f"{key} must be a non-negative number, got {value!r}")
        if not 0.0 < self.val_fraction < 1.0:
            raise ValueError(f"val_fraction must lie strictly between 0 and 1, got {self.val_fraction!r}")
        if self.learning_rate == 0:
            raise ValueError("learning_rate must be positive, got 0")

    def to_dict(self) -> dict[str, Any]:
        """The config as plain JSON-ready values (tuples become lists)."""
        config = dataclasses.asdict(self)
        if isinstance(config["class_weights"], tuple):
            config["class_weights"] = list(config["class_weights"])
        return config

    @classmethod
    def from_dict(cls, config: Mapping[str, Any]) -> Experiment:
        """Make an experiment from `to_dict`'s output (or any subset with name and model).

        Raises:
            ValueError: for a key that is not a field, listing the known fields.
        """
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(config) - set(known))
        if unknown:
            raise ValueError(f"unknown experiment field(s) {unknown}; known fields: {known}")
        return cls(**config)


def _check_class_weights(
    weights: tuple[float, ...] | list[float] | dict[str, Any] | None,
) -> tuple[float, ...] | dict[str, Any] | None:
    if weights is None:
        return None
    if isinstance(weights, Mapping):
        method = weights.get("method")
        if method not in stats.METHODS:
            raise ValueError(
                f"class_weights method must be one of {list(stats.METHODS)}, got {method!r} in {dict(weights)}"
            )
        unknown = sorted(set(weights) - {"method", "ignore_background", "cap"})
        if unknown:
            raise ValueError(f"unknown class_weights key(s) {unknown}; expected method, ignore_background, cap")
        return dict(weights)
    values = tuple(float(w) for w in weights)
    if len(values) != NUM_CLASSES or any(not np.isfinite(w) or w < 0 for w in values):
        raise ValueError(f"class_weights must be {NUM_CLASSES} finite non-negative numbers, got {weights!r}")
    return values


def config_hash(experiment: Experiment, data_fingerprint: str) -> str:
    """Short hash (10 hex digits) of the experiment's config (without description) and the data's fingerprint."""
    config = experiment.to_dict()
    config.pop("description")
    text = json.dumps({"experiment": config, "data": data_fingerprint}, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:10]


def run_directory(experiment: Experiment, data: MarsData, runs_dir: Path | str | None = None) -> Path:
    """Where the record of `experiment` trained on `data` lives: ``<runs_dir>/<name>-<hash>``."""
    root = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    return root / f"{experiment.name}-{config_hash(experiment, data.fingerprint)}"


# ---------------------------------------------------------------- the record


@dataclass(frozen=True)
class RunRecord:
    """A finished run, as read back from its folder.

    Attributes:
        directory: the run folder.
        experiment: the config it ran.
        history: one row per epoch (columns epoch, loss, miou, [val_loss, val_miou], learning_rate, seconds).
        metrics: ``{"val": {...} | None, "test": {...} | None, "best_epoch", "epochs_run", "parameters"}``;
            each split holds ``miou`` (competition mIoU), ``per_class_iou`` ({class name: IoU}
            for classes 1..4) and ``images``.
        provenance: marslib version, data source and fingerprint, profile, device, times.
    """

    directory: Path
    experiment: Experiment
    history: pd.DataFrame
    metrics: dict[str, Any]
    provenance: dict[str, Any]

    @property
    def val_miou(self) -> float | None:
        """Competition mIoU on the cleaned validation split (None without validation)."""
        return self.metrics["val"]["miou"] if self.metrics["val"] else None

    @property
    def test_miou(self) -> float | None:
        """Competition mIoU on the test set's public quarter (None where the test labels are unknown)."""
        return self.metrics["test"]["miou"] if self.metrics["test"] else None

    def load_model(self) -> keras.Model:
        """The trained model (uncompiled: for prediction)."""
        import marslib.models  # noqa: F401  (registers the custom layers the file names)

        return keras.saving.load_model(self.directory / "model.keras", compile=False)


def is_complete(directory: Path | str) -> bool:
    """True when `directory` holds a finished record (its DONE marker is written last)."""
    return (Path(directory) / "DONE").exists()


def load_record(directory: Path | str) -> RunRecord:
    """Read the finished record in `directory`.

    Raises:
        ValueError: when the folder holds no finished record.
    """
    directory = Path(directory)
    if not is_complete(directory):
        raise ValueError(f"{directory} holds no finished run record (no DONE marker)")
    return RunRecord(
        directory=directory,
        experiment=Experiment.from_dict(read_json(directory / "config.json")),
        history=pd.read_csv(directory / "history.csv"),
        metrics=read_json(directory / "metrics.json"),
        provenance=read_json(directory / "provenance.json"),
    )


def records(runs_dir: Path | str | None = None) -> list[RunRecord]:
    """Every finished record in `runs_dir` (default `marslib.paths.runs_dir()`), oldest first."""
    root = Path(runs_dir) if runs_dir is not None else paths.runs_dir()
    found = [load_record(d) for d in sorted(root.iterdir()) if d.is_dir() and is_complete(d)] if root.exists() else []
    return sorted(found, key=lambda r: r.provenance["finished"])


# ---------------------------------------------------------------- finding and running


def find_record(
    run_or_name: Path | str,
    data: MarsData | None = None,
    runs_dir: Path | str | None = None,
    profile: str | None = None,
) -> RunRecord:
    """A finished record, named by its folder or by a named experiment (`marslib.experiments`).

    Args:
        run_or_name: a run folder, or an experiment name such as "pspnet".
        data: the data set a name's record was trained on (default `marslib.data.load()`).
        runs_dir: where to look for a name's record.
        profile: the profile of a name's experiment (None: `marslib.profile()`).

    Raises:
        ValueError: no finished record there (or for that name, data and profile yet).
    """
    from marslib import data as marsdata
    from marslib import experiments

    if Path(run_or_name).is_dir():
        return load_record(run_or_name)
    experiment = experiments.get_experiment(str(run_or_name), profile)
    directory = run_directory(experiment, data if data is not None else marsdata.load(), runs_dir)
    if not is_complete(directory):
        raise ValueError(
            f"experiment {experiment.name!r} ({experiment.profile} profile) has no finished record at {directory}; "
            f"run it first: python -m marslib experiments run {experiment.name} --profile {experiment.profile}"
        )
    return load_record(directory)


def run(
    experiment: Experiment,
    data: MarsData | None = None,
    runs_dir: Path | str | None = None,
    *,
    verbose: int = 1,
    tensorboard: bool = False,
) -> RunRecord:
    """Train and evaluate `experiment`, or load its record if it is already complete.

    Args:
        experiment: what to train.
        data: the data set (default `marslib.data.load()`).
        runs_dir: where records live (default `$MARSLIB_RUNS`, else ``<repo>/runs``).
        verbose: Keras progress output per epoch (0 silent, 1 progress bar, 2 one line).
        tensorboard: also write TensorBoard scalars to ``<run>/tensorboard`` (needs the
            tensorboard package, preinstalled on Colab).

    Returns:
        The finished record. An interrupted run in the same folder is resumed after its last
        finished epoch.
    """
    from marslib import data as marsdata

    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ValueError("TensorBoard logs need the tensorboard package, which is not installed: pip install tensorboard")
    data = data if data is not None else marsdata.load()
    directory = run_directory(experiment, data, runs_dir)
    if is_complete(directory):
        return load_record(directory)
    directory.mkdir(parents=True, exist_ok=True)
    write_json(directory / "config.json", experiment.to_dict())
    started = time.perf_counter()
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    if not on_gpu:
        tf.config.experimental.enable_op_determinism()

    split = _training_split(experiment, data)
    class_weights = _class_weights(experiment, split.train_masks)
    model = build_model(experiment, class_weights, on_gpu=on_gpu)
    if verbose:
        print(
            f"{experiment.name}: {experiment.model} ({model.count_params():,} parameters) on "
            f"{experiment.variant} ({len(split.train_images)} images), loss {experiment.loss}, "
            f"{experiment.profile} profile, data {data.source}",
            flush=True,
        )
    state = _fit(model, experiment, split, directory / CHECKPOINT_DIR, verbose=verbose, tensorboard=tensorboard)
    _finish(model, experiment, data, split, state, directory, started, on_gpu, verbose)
    shutil.rmtree(directory / CHECKPOINT_DIR, ignore_errors=True)
    return load_record(directory)


@dataclass(frozen=True)
class TrainingSplit:
    """The images one experiment trains and validates on (uint8 (N, 64, 128) each)."""

    train_images: np.ndarray
    train_masks: np.ndarray
    val_images: np.ndarray | None
    val_masks: np.ndarray | None


def split_indices(experiment: Experiment, data: MarsData) -> tuple[np.ndarray, np.ndarray | None]:
    """Which original training images the experiment trains on and validates on.

    Returns:
        (train_indices, val_indices): int arrays into `data.train_images`. The validation images
        are the val part of `marslib.data.split` without the aliens (`marslib.cleaning`); without
        validation every image is for training and val_indices is None.
    """
    from marslib import cleaning
    from marslib import data as marsdata

    if not experiment.validation:
        return np.arange(len(data.train_images)), None
    train_indices, val_indices = marsdata.split(data, val_fraction=experiment.val_fraction, seed=experiment.seed)
    return train_indices, cleaning.cleaned_indices(data, val_indices)


def _training_split(experiment: Experiment, data: MarsData) -> TrainingSplit:
    """Validation: the cleaned images of the val split; training: the variant built from the train split."""
    train_indices, val_indices = split_indices(experiment, data)
    images, masks = variants.build(experiment.variant, data, train_indices, seed=experiment.seed)
    if experiment.train_limit and len(images) > experiment.train_limit:
        keep = np.sort(np.random.default_rng(experiment.seed).choice(len(images), experiment.train_limit, replace=False))
        images, masks = images[keep], masks[keep]
    if val_indices is None:
        return TrainingSplit(images, masks, None, None)
    return TrainingSplit(images, masks, data.train_images[val_indices], data.train_masks[val_indices])


def _class_weights(experiment: Experiment, masks: np.ndarray) -> np.ndarray | None:
    weights = experiment.class_weights
    if weights is None:
        return None
    if isinstance(weights, dict):
        options = {key: value for key, value in weights.items() if key != "method"}
        return stats.class_weights(masks, weights["method"], **options)
    return np.asarray(weights, dtype=np.float32)


def build_model(experiment: Experiment, class_weights: np.ndarray | None, *, on_gpu: bool) -> keras.Model:
    """Build and compile the experiment's model: AdamW, its loss, the competition mIoU as metric.

    Sets the global random seed to `experiment.seed`: the weights, and with `fit_epoch`'s
    per-epoch op seeds every epoch's shuffle and augmentation, follow from it. On a GPU the
    model is built under the `mixed_float16` policy and the step XLA-compiled where the
    experiment asks for it.
    """
    from marslib import losses, metrics, models

    loss = losses.get(experiment.loss, class_weights=class_weights, **experiment.loss_options)
    keras.utils.set_random_seed(experiment.seed)
    previous_policy = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(
        "mixed_float16" if (on_gpu and experiment.mixed_precision) else "float32"
    )
    try:
        model = models.build(experiment.model, size=experiment.model_size, **experiment.model_options)
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=experiment.learning_rate,
            weight_decay=experiment.weight_decay,
            clipnorm=experiment.clipnorm,
        ),
        loss=loss,
        metrics=[metrics.CompetitionMeanIoU()],
        jit_compile=bool(on_gpu and experiment.jit_compile),
    )
    return model


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of everything random in epoch `epoch` of a run seeded with `seed` (0 <= value < 2**31)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0] % (2**31))


def set_schedule(model: keras.Model, experiment: Experiment, steps_per_epoch: int) -> None:
    """Give a compiled model's optimizer the experiment's schedule (cosine: decay to 0 over all epochs)."""
    if experiment.schedule == "cosine":
        model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
            experiment.learning_rate, decay_steps=experiment.epochs * steps_per_epoch
        )


# ---------------------------------------------------------------- the epoch loop


def fit_epoch(
    model: keras.Model,
    images: np.ndarray,
    masks: np.ndarray,
    experiment: Experiment,
    epoch: int,
    *,
    validation: tf.data.Dataset | None = None,
    verbose: int = 0,
) -> dict[str, float]:
    """Train one epoch as `run` does: batches and random numbers drawn from `epoch_seed(seed, epoch)`.

    Args:
        model: a model compiled by `build_model`.
        images: uint8 (N, 64, 128) training images; masks: uint8 (N, 64, 128) labels.
        experiment: gives the batch size, on-the-fly augmentation and seed.
        epoch: the epoch's index (0-based).
        validation: batches to evaluate on after the epoch (adds val_loss and val_miou).

    Returns:
        The epoch's logs, e.g. {"loss": ..., "miou": ..., "val_loss": ..., "val_miou": ...}.
    """
    from marslib.augment.pipeline import make_dataset

    # The shuffle's and the augmentations' op seed is the epoch's; their global seed is the one
    # `build_model` set (the experiment's), also on a resumed run. Setting the global seed again
    # here would cost each epoch most of a second: TensorFlow clears its kernel cache on every
    # `tf.random.set_seed`.
    seed = epoch_seed(experiment.seed, epoch)
    batches = make_dataset(images, masks, experiment.batch_size, augment=experiment.augment, shuffle=True, seed=seed)
    history = model.fit(batches, validation_data=validation, epochs=1, shuffle=False, verbose=verbose).history
    return {key: float(values[-1]) for key, values in history.items()}


def _fit(
    model: keras.Model,
    experiment: Experiment,
    split: TrainingSplit,
    folder: Path,
    *,
    verbose: int,
    tensorboard: bool,
) -> TrainingState:
    """Train epoch by epoch from the last checkpoint; return the final state with the best weights loaded."""
    from marslib.augment.pipeline import make_dataset

    steps_per_epoch = -(-len(split.train_images) // experiment.batch_size)
    set_schedule(model, experiment, steps_per_epoch)
    checkpoint = Checkpoint(folder)
    state = checkpoint.load()
    checkpoint.restore(model, state)
    validation = None
    if split.val_images is not None:
        validation = make_dataset(split.val_images, split.val_masks, experiment.batch_size, augment=None, shuffle=False)
    writer = tf.summary.create_file_writer(str(folder.parent / "tensorboard")) if tensorboard else None
    if verbose and state.epoch:
        print(f"resuming after epoch {state.epoch} from {folder}", flush=True)
    while state.epoch < experiment.epochs and not state.stopped(experiment.patience):
        epoch = state.epoch
        if verbose:
            print(f"Epoch {epoch + 1}/{experiment.epochs}", flush=True)
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        start = time.perf_counter()
        logs = fit_epoch(model, split.train_images, split.train_masks, experiment, epoch, validation=validation, verbose=verbose)
        elapsed = time.perf_counter() - start
        row = {"epoch": epoch, **logs, "learning_rate": learning_rate, "seconds": elapsed}
        state.history.append(row)
        state.seconds += elapsed
        best = validation is not None and state.improves(row["val_miou"])
        if best:
            state.best_epoch, state.best_value = epoch, row["val_miou"]
        elif validation is None:
            state.best_epoch = epoch  # without validation the last epoch is the model kept
        checkpoint.save(model, state, best=best)
        if writer is not None:
            with writer.as_default():
                for key, value in row.items():
                    if key != "epoch":
                        tf.summary.scalar(key, value, step=epoch)
            writer.flush()
    if validation is not None:
        checkpoint.restore_best(model, state)
    return state


# ---------------------------------------------------------------- the record's files


def _split_metrics(
    model: keras.Model, images: np.ndarray, masks: np.ndarray, batch_size: int, progress: bool
) -> dict[str, Any]:
    from marslib import evaluate

    predicted = evaluate.predict(model, images, batch_size=batch_size, progress=progress)
    return evaluate.scores(masks, predicted)


def _finish(
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
    """Evaluate the trained model and write the record's files, DONE last."""
    batch_size = max(experiment.batch_size, 64)
    val, test = None, None
    if split.val_images is not None:
        val = _split_metrics(model, split.val_images, split.val_masks, batch_size, progress=False)
    if data.test_masks is not None:
        # The public quarter, as Kaggle's leaderboard showed during the challenge (and the report's
        # Table 1 quotes); the private rest is scored once, with the final submission.
        public = submission.public_indices(len(data.test_masks))
        test = _split_metrics(model, data.test_images[public], data.test_masks[public], batch_size, progress=verbose > 0)
    metrics = {
        "val": val,
        "test": test,
        "best_epoch": state.best_epoch,
        "epochs_run": state.epoch,
        "parameters": int(model.count_params()),
    }
    _write_history(directory / "history.csv", state.history)
    model.save(directory / "model.keras")
    write_json(directory / "metrics.json", metrics)
    write_json(
        directory / "provenance.json",
        {
            "marslib_version": marslib.__version__,
            "tensorflow_version": tf.__version__,
            "keras_version": keras.__version__,
            "data_source": data.source,
            "data_fingerprint": data.fingerprint,
            "profile": experiment.profile,
            "device": describe_device(),
            "mixed_precision": bool(on_gpu and experiment.mixed_precision),
            "jit_compile": bool(on_gpu and experiment.jit_compile),
            "train_images": int(len(split.train_images)),
            "train_seconds": round(state.seconds, 2),
            "wall_seconds_last_process": round(time.perf_counter() - started, 2),
            "finished": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        },
    )
    (directory / "DONE").write_text("complete\n")


def describe_device() -> str:
    """The accelerator TensorFlow trains on, e.g. "GPU: NVIDIA A100" or "CPU: x86_64, 2 cores"."""
    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        details = tf.config.experimental.get_device_details(gpus[0])
        return f"GPU: {details.get('device_name', gpus[0].name)}"
    return f"CPU: {platform.machine()}, {os.cpu_count()} cores"


def _write_history(path: Path, history: list[dict[str, float]]) -> None:
    columns = list(dict.fromkeys(key for row in history for key in row))
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(history)
