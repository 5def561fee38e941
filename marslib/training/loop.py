"""The trainer: one loop for every run, resumable and deterministic, writing a run record.

    record = loop.run(registry.get("pspnet"))      # trains it, or loads its finished record

`run` builds the experiment's training dataset from its split (`marslib.datasets`), builds and
compiles its model (AdamW, the loss, the task's metric), trains epoch by epoch keeping the best
validation epoch, scores the model kept on the validation split and the test set's public
quarter, and writes the record (`marslib.training.run_records`). A run whose record is complete is
loaded instead of trained again. The task (`marslib.training.tasks`) sets the labels, the number
of outputs and the metric: the same loop trains the five-class models and the background net.

Resuming. After every epoch the whole training state (model and optimizer variables, including
the random-number state of dropout layers) and the history are saved in ``checkpoint/``. A run
that was killed picks up after its last finished epoch and ends with the record it would have had
(on a CPU, bit for bit): each epoch draws its batches and its random numbers from a seed derived
from (seed, epoch), never from state left over by earlier epochs, so epoch 7 sees the same batches
whether or not the process was restarted after epoch 6. This is also why the loop calls
``model.fit`` once per epoch: `keras.callbacks.BackupAndRestore` restores weights and the epoch
counter but not the input pipeline's shuffling state, so a resumed run would see other batches.

Devices. On a CPU `run` switches on TensorFlow's op determinism, so the same seed, data and
profile give the same record. Where the experiment asks for mixed precision (the full profile
does; set ``mixed_precision=False`` to switch it off), the model is built under the
`mixed_float16` policy on a GPU, under `mixed_bfloat16` on a CPU with bfloat16 units
(`marslib.core.hardware`; ``MARSLIB_CPU_BFLOAT16=0`` switches that off), and in float32
elsewhere (`precision_policy`); the training step is XLA-compiled on a GPU where the experiment
asks for it (``jit_compile``). A record's provenance names the policy that trained it.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import os
import platform
import shutil
import sys
import time
import warnings
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keras
import numpy as np
import tensorflow as tf

import marslib
from marslib import data as mars_data
from marslib import datasets, metrics, models
from marslib.augment.pipeline import make_dataset
from marslib.core import hardware, versions
from marslib.core.files import atomic_path, write_json, write_text
from marslib.core.locks import RunLock
from marslib.data import cleaning, stats
from marslib.training import tasks
from marslib.training.checkpoint import Checkpoint, TrainingState
from marslib.training.experiment import Experiment
from marslib.training.run_records import (
    DONE_TEXT,
    PER_IMAGE_FILE,
    TRAINED,
    RunRecord,
    damage,
    find_finished,
    is_complete,
    load_record,
    run_directory,
    write_per_image,
)

if TYPE_CHECKING:
    from marslib.data import MarsData

CHECKPOINT_DIR = "checkpoint"


def run(
    experiment: Experiment,
    data: MarsData | None = None,
    runs_dir: Path | str | None = None,
    *,
    verbose: int = 1,
) -> RunRecord:
    """Train and evaluate `experiment`, or load its record if it is already complete.

    Args:
        experiment: what to train.
        data: the data set (default `marslib.data.load()`).
        runs_dir: where records live (default `$MARSLIB_RUNS`, else ``<repo>/runs``).
        verbose: Keras progress output per epoch (0 silent, 1 progress bar, 2 one line).

    Returns:
        The finished record: the one in `runs_dir`, else the shipped reference of the same key
        (`marslib.training.run_records.REFERENCES_DIR`), else a new one. An interrupted run in
        the same folder is resumed after its last finished epoch; a damaged record is trained
        again; a run that another process is training is refused (`RunLock`). Its `origin`
        says which of the three it is.
    """
    experiment = experiment.resolved()
    data = data if data is not None else mars_data.load()
    directory = run_directory(experiment, data, runs_dir)
    problem = damage(directory)  # None without a DONE marker, or for a whole record
    if problem is not None:
        warnings.warn(
            f"{directory} holds a damaged record ({problem}): training it again", stacklevel=2
        )
        (directory / "DONE").unlink()
    finished = find_finished(experiment, data, runs_dir)
    if finished is not None:
        shutil.rmtree(finished / CHECKPOINT_DIR, ignore_errors=True)  # a kill after DONE left it
        return load_record(finished)
    directory.mkdir(parents=True, exist_ok=True)
    with RunLock(directory):
        if is_complete(directory):  # another process finished it while this one started
            return load_record(directory)
        _train(experiment, data, directory, verbose=verbose)
    return dataclasses.replace(load_record(directory), origin=TRAINED)


def _train(experiment: Experiment, data: MarsData, directory: Path, *, verbose: int) -> None:
    """Train `experiment` in `directory` (resuming its checkpoint) and write its record."""
    write_json(directory / "config.json", experiment.to_dict())
    started = time.perf_counter()
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    if not on_gpu:
        tf.config.experimental.enable_op_determinism()

    split = training_split(experiment, data)
    class_weights = loss_weights(experiment, split.train_masks)
    model = build_model(experiment, class_weights, on_gpu=on_gpu)
    if verbose:
        print(
            f"{experiment.name}: {experiment.model} ({model.count_params():,} parameters) on "
            f"{experiment.variant} ({len(split.train_images)} images), loss {experiment.loss}, "
            f"{experiment.profile} profile, data {data.source}",
            flush=True,
        )
    state = _fit(model, experiment, split, directory / CHECKPOINT_DIR, verbose=verbose)
    _finish(model, experiment, data, split, state, directory, started, on_gpu, verbose)
    shutil.rmtree(directory / CHECKPOINT_DIR, ignore_errors=True)


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
        are the val part of `marslib.data.split` (the book's one split, whatever the
        experiment's seed) without the aliens (`marslib.data.cleaning`); without validation
        every image is for training and val_indices is None.
    """
    if not experiment.validation:
        return np.arange(len(data.train_images)), None
    train_indices, val_indices = mars_data.split(data, val_fraction=experiment.val_fraction)
    return train_indices, cleaning.cleaned_indices(data, val_indices)


def training_split(experiment: Experiment, data: MarsData) -> TrainingSplit:
    """The images `run` trains and validates `experiment` on: the variant built from the train
    split (at most `train_limit` of them, drawn by the experiment's seed) and the cleaned images
    of the validation split (none without validation)."""
    experiment = experiment.resolved()
    train_indices, val_indices = split_indices(experiment, data)
    images, masks = datasets.build(experiment.variant, data, train_indices, seed=experiment.seed)
    if experiment.train_limit and len(images) > experiment.train_limit:
        keep = np.sort(
            np.random.default_rng(experiment.seed).choice(
                len(images), experiment.train_limit, replace=False
            )
        )
        images, masks = images[keep], masks[keep]
    if val_indices is None:
        return TrainingSplit(images, masks, None, None)
    return TrainingSplit(
        images, masks, data.train_images[val_indices], data.train_masks[val_indices]
    )


def loss_weights(experiment: Experiment, masks: np.ndarray) -> np.ndarray | None:
    """The per-class loss weights of `experiment`, float32 (5,) indexed by class (None when it
    is unweighted): as given, or computed from `masks`, its training masks (uint8 (N, 64, 128)),
    by the method it names (`marslib.data.stats.class_weights`)."""
    weights = experiment.class_weights
    if weights is None:
        return None
    if isinstance(weights, dict):
        options = {key: value for key, value in weights.items() if key != "method"}
        return stats.class_weights(masks, weights["method"], **options)
    return np.asarray(weights, dtype=np.float32)


def precision_policy(experiment: Experiment, *, on_gpu: bool) -> str:
    """The Keras dtype policy the experiment trains under on this machine: "mixed_float16" on a
    GPU and "mixed_bfloat16" on a CPU with bfloat16 units where the experiment asks for mixed
    precision, else "float32"."""
    if not experiment.resolved().mixed_precision:
        return "float32"
    if on_gpu:
        return "mixed_float16"
    return "mixed_bfloat16" if hardware.cpu_bfloat16() else "float32"


def build_model(
    experiment: Experiment, class_weights: np.ndarray | None, *, on_gpu: bool
) -> keras.Model:
    """Build and compile the experiment's model: AdamW, its loss, the competition mIoU as metric.

    Sets the global random seed to `experiment.seed`: the weights, and with `fit_epoch`'s
    per-epoch op seeds every epoch's shuffle and augmentation, follow from it. The model is
    built under `precision_policy` and, on a GPU, the step XLA-compiled where the experiment
    asks for it; under `mixed_float16` the bilinear resizes run in float32
    (`_bilinear_resizes_in_float32`), without which XLA cannot compile their gradient.
    """
    experiment = experiment.resolved()
    task = tasks.get(experiment.task)
    loss = task.loss(experiment.loss, class_weights, experiment.loss_options)
    keras.utils.set_random_seed(experiment.seed)
    previous_policy = keras.mixed_precision.global_policy()
    policy = precision_policy(experiment, on_gpu=on_gpu)
    keras.mixed_precision.set_global_policy(policy)
    try:
        model = models.build(
            experiment.model,
            num_classes=task.num_classes,
            size=experiment.model_size,
            **experiment.model_options,
        )
    finally:
        keras.mixed_precision.set_global_policy(previous_policy)
    if policy == "mixed_float16":
        _bilinear_resizes_in_float32(model)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=experiment.learning_rate,
            weight_decay=experiment.weight_decay,
            clipnorm=experiment.clipnorm,
        ),
        loss=loss,
        metrics=[task.metric()],
        jit_compile=bool(on_gpu and experiment.jit_compile),
    )
    return model


def _bilinear_resizes_in_float32(model: keras.Model) -> None:
    """Run every bilinear `UpSampling2D` of a `mixed_float16` model, and each layer holding one
    (the attention gate), in float32: their inputs are cast to float32, their outputs stay so.

    Under XLA the gradient of a float16 bilinear resize comes back as float32 where float16 is
    expected, and compiling the training step fails with "Seen floating point types of
    different precisions" (tensorflow/tensorflow#81273, keras-team/keras#20931; on a CPU, and
    reported on GPUs). In float32 the resize and its gradient agree.
    """
    for layer in model.layers:
        resizes = [
            inner
            for inner in layer._flatten_layers()  # the layer and the layers inside it
            if isinstance(inner, keras.layers.UpSampling2D) and inner.interpolation == "bilinear"
        ]
        for inner in resizes:
            inner.dtype_policy = "float32"
        if resizes:
            layer.dtype_policy = "float32"


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of everything random in epoch `epoch` of a run seeded with `seed`
    (0 <= value < 2**31)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0] % (2**31))


def set_schedule(model: keras.Model, experiment: Experiment, steps_per_epoch: int) -> None:
    """Give a compiled model's optimizer the experiment's schedule: "cosine" decays to 0 over all
    epochs; "constant_then_cosine" holds the rate for the first `constant_epochs` epochs, then
    decays it to 0 by the last (Keras' `CosineDecay` with a "warm-up" from the rate to itself)."""
    experiment = experiment.resolved()
    steps = experiment.epochs * steps_per_epoch
    if experiment.schedule == "cosine":
        model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
            experiment.learning_rate, decay_steps=steps
        )
    elif experiment.schedule == "constant_then_cosine":
        held = constant_epochs(experiment.epochs) * steps_per_epoch
        model.optimizer.learning_rate = keras.optimizers.schedules.CosineDecay(
            experiment.learning_rate,
            decay_steps=steps - held,
            warmup_target=experiment.learning_rate,
            warmup_steps=held,
        )


def constant_epochs(epochs: int) -> int:
    """How many of `epochs` the "constant_then_cosine" schedule holds the rate for: two thirds,
    rounded to the nearest epoch (20 of 30), at least 1 decaying epoch."""
    return min(round(2 * epochs / 3), epochs - 1)


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
    """Train one epoch as `run` does: batches and random numbers drawn from
    `epoch_seed(seed, epoch)`.

    Args:
        model: a model compiled by `build_model`.
        images: uint8 (N, 64, 128) training images; masks: uint8 (N, 64, 128) labels.
        experiment: gives the batch size, on-the-fly augmentation and seed.
        epoch: the epoch's index (0-based).
        validation: batches to evaluate on after the epoch (adds val_loss and val_miou).

    Returns:
        The epoch's logs, e.g. {"loss": ..., "miou": ..., "val_loss": ..., "val_miou": ...}.
    """
    # The shuffle's and the augmentations' op seed is the epoch's; their global seed is the one
    # `build_model` set (the experiment's), also on a resumed run. Setting the global seed again
    # here would cost each epoch most of a second: TensorFlow clears its kernel cache on every
    # `tf.random.set_seed`.
    experiment = experiment.resolved()
    seed = epoch_seed(experiment.seed, epoch)
    batches = make_dataset(
        images, masks, experiment.batch_size, augment=experiment.augment, shuffle=True, seed=seed
    )
    history = model.fit(
        batches, validation_data=validation, epochs=1, shuffle=False, verbose=verbose
    ).history
    return {key: float(values[-1]) for key, values in history.items()}


def _fit(
    model: keras.Model,
    experiment: Experiment,
    split: TrainingSplit,
    folder: Path,
    *,
    verbose: int,
) -> TrainingState:
    """Train epoch by epoch from the last checkpoint;
    return the final state with the best weights loaded."""
    task = tasks.get(experiment.task)
    monitored = f"val_{task.metric_name}"
    targets = task.targets(split.train_masks)
    steps_per_epoch = -(-len(split.train_images) // experiment.batch_size)
    set_schedule(model, experiment, steps_per_epoch)
    checkpoint = Checkpoint(folder)
    state = checkpoint.load()
    checkpoint.restore(model, state)
    validation = None
    if split.val_images is not None:
        val_targets = task.targets(split.val_masks)
        validation = make_dataset(
            split.val_images, val_targets, experiment.batch_size, augment=None, shuffle=False
        )
    if verbose and state.epoch:
        print(f"resuming after epoch {state.epoch} from {folder}", flush=True)
    keep_last = validation is None or experiment.patience == 0
    while state.epoch < experiment.epochs and not (
        experiment.patience and state.stopped(experiment.patience)
    ):
        epoch = state.epoch
        if verbose:
            print(f"Epoch {epoch + 1}/{experiment.epochs}", flush=True)
        learning_rate = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        start = time.perf_counter()
        logs = fit_epoch(
            model,
            split.train_images,
            targets,
            experiment,
            epoch,
            validation=validation,
            verbose=verbose,
        )
        elapsed = time.perf_counter() - start
        row = {"epoch": epoch, **logs, "learning_rate": learning_rate, "seconds": elapsed}
        state.history.append(row)
        state.seconds += elapsed
        best = not keep_last and state.improves(row[monitored])
        if best:
            state.best_epoch, state.best_value = epoch, row[monitored]
        elif keep_last:
            state.best_epoch = epoch  # the last epoch is the model kept
        checkpoint.save(model, state, best=best)
    if not keep_last:
        checkpoint.restore_best(model, state)
    return state


# ---------------------------------------------------------------- the record's files


def _split_metrics(
    model: keras.Model,
    task: tasks.Task,
    images: np.ndarray,
    masks: np.ndarray,
    batch_size: int,
    progress: bool,
) -> tuple[dict[str, Any], np.ndarray]:
    """A split's scores and its per-image confusion matrices (uint16 (N, 5, 5))."""
    predicted = models.predict(model, images, batch_size=batch_size, progress=progress)
    return task.scores(masks, predicted), metrics.per_image_confusion(masks, predicted)


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
    from marslib.evaluation import scoring

    batch_size = max(experiment.batch_size, 64)
    task = tasks.get(experiment.task)
    found: dict[str, Any] = {"val": None, "test": None}
    confusions = {}
    # The validation split (split.val_images) and the test set's public quarter, as Kaggle's
    # leaderboard showed during the challenge (and the report's Table 1 quotes); the private
    # rest is scored once, with the final submission.
    for name, (images, masks) in scoring.record_splits(experiment, data).items():
        found[name], confusions[name] = _split_metrics(
            model, task, images, masks, batch_size, progress=verbose > 0 and name == "test"
        )
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


def rescore(record: RunRecord, data: MarsData) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Score a record's saved model again, as `run` scored it.

    The images are those `run` scored (`marslib.evaluation.scoring.record_splits`): the
    experiment's validation split, and the test set's public quarter where its labels are known
    (else None).

    Returns:
        ``({"val": scores | None, "test": scores | None}, {split: uint16 (N, 5, 5)})``: the
        scores, and the per-image confusion matrices of each split scored.
    """
    from marslib.evaluation import scoring

    experiment = record.experiment
    task = tasks.get(experiment.task)
    model = record.load_model()
    batch_size = max(experiment.batch_size, 64)
    found: dict[str, Any] = {"val": None, "test": None}
    confusions = {}
    for split, (images, masks) in scoring.record_splits(experiment, data).items():
        found[split], confusions[split] = _split_metrics(
            model, task, images, masks, batch_size, progress=False
        )
    return found, confusions


def verify(record: RunRecord, data: MarsData, *, tolerance: float = 1e-4) -> None:
    """Check that a record's model still gives the record's scores on this data, and the same
    per-image confusion matrices.

    Another CPU or thread count may round a few probabilities otherwise and flip the odd pixel
    whose two best classes tie, so a share `tolerance` of each split's pixels may move, and
    each score may differ by `tolerance`.

    Raises:
        ValueError: naming each score that differs by more than `tolerance`, or each split where
            more pixels are predicted otherwise (a record whose weights or data drifted from
            what it says), and the fix.
    """
    found, confusions = rescore(record, data)
    drifted = []
    for split in ("val", "test"):
        recorded, now = record.metrics[split], found[split]
        if (recorded is None) != (now is None):
            drifted.append(f"{split}: recorded {recorded}, now {now}")
            continue
        for key, value in _flat_scores(recorded or {}).items():
            again = _flat_scores(now)[key]
            if not abs(again - value) <= tolerance:
                drifted.append(f"{split} {key}: recorded {value:.6f}, now {again:.6f}")
    stored = record.per_image()
    for split in sorted(set(stored) | set(confusions)):
        if split not in stored or split not in confusions:
            drifted.append(f"{split}: per-image counts recorded for {sorted(stored)}")
            continue
        if stored[split].shape != confusions[split].shape:
            drifted.append(
                f"{split}: {len(stored[split])} images recorded, {len(confusions[split])} now"
            )
            continue
        # A pixel predicted otherwise moves one count out of a cell and into another.
        moved = int(np.abs(stored[split].astype(np.int64) - confusions[split]).sum()) // 2
        if moved > tolerance * int(stored[split].sum()):
            drifted.append(f"{split}: {moved} pixels predicted otherwise than recorded")
    if drifted:
        raise ValueError(
            f"the record {record.directory} does not reproduce on {data.source} "
            f"({'; '.join(drifted)}): retrain it with "
            f"python -m marslib experiments run {record.experiment.name} "
            f"--profile {record.experiment.profile}"
        )


def _flat_scores(scores: dict[str, Any]) -> dict[str, float]:
    """A split's scores as one flat {name: number}, per-class IoU included, images left out."""
    flat = {}
    for key, value in scores.items():
        if isinstance(value, dict):
            flat |= {f"{key} {name}": float(inner) for name, inner in value.items()}
        elif key != "images":
            flat[key] = float(value)
    return flat
