"""The trainer: one loop for every run, resumable and deterministic, writing a run record.

    record = loop.run(registry.get("pspnet"))      # trains it, or loads its finished record

`run` builds the experiment's training dataset from its split (`marslib.training.splits`), builds
and compiles its model (AdamW, the loss, the task's metric: `marslib.training.building`), trains
epoch by epoch keeping the best validation epoch (`marslib.training.epochs`), scores the model
kept on the validation split and the test set's public quarter
(`marslib.training.record_scores`), and writes the record (`marslib.training.recording`, read
back by `marslib.training.run_records`). A run whose record is complete is loaded instead of
trained again. The task (`marslib.training.tasks`) sets the labels, the number of outputs and
the metric: the same loop trains the five-class models and the background net.

Resuming. After every epoch the whole training state and the history are saved in
``checkpoint/``; a run that was killed picks up after its last finished epoch and ends with the
record it would have had (on a CPU, bit for bit), since each epoch draws its batches and random
numbers from a seed derived from (seed, epoch) (`marslib.training.epochs`).

Devices. On a CPU `run` switches on TensorFlow's op determinism, so the same seed, data and
profile give the same record. Where the experiment asks for mixed precision (the full profile
does; set ``mixed_precision=False`` to switch it off), the model is built under the
`mixed_float16` policy on a GPU, under `mixed_bfloat16` on a CPU with bfloat16 units
(`marslib.core.hardware`; ``MARSLIB_CPU_BFLOAT16=0`` switches that off), and in float32
elsewhere (`marslib.training.building.precision_policy`); the training step is XLA-compiled on a
GPU where the experiment asks for it (``jit_compile``). A record's provenance names the policy
that trained it.
"""

from __future__ import annotations

import dataclasses
import shutil
import time
import warnings
from pathlib import Path
from typing import TYPE_CHECKING

import tensorflow as tf

from marslib import data as mars_data
from marslib.core.files import write_json
from marslib.core.locks import RunLock
from marslib.training import building, epochs, recording, splits
from marslib.training.run_records import (
    TRAINED,
    RunRecord,
    damage,
    find_finished,
    is_complete,
    load_record,
    run_directory,
)

if TYPE_CHECKING:
    from marslib.data import MarsData
    from marslib.training.experiment import Experiment

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

    split = splits.training_split(experiment, data)
    class_weights = splits.loss_weights(experiment, split.train_masks)
    model = building.build_model(experiment, class_weights, on_gpu=on_gpu)
    if verbose:
        print(
            f"{experiment.name}: {experiment.model} ({model.count_params():,} parameters) on "
            f"{experiment.variant} ({len(split.train_images)} images), loss {experiment.loss}, "
            f"{experiment.profile} profile, data {data.source}",
            flush=True,
        )
    state = epochs.train_epochs(
        model, experiment, split, directory / CHECKPOINT_DIR, verbose=verbose
    )
    recording.write_record(
        model, experiment, data, split, state, directory, started, on_gpu, verbose
    )
    shutil.rmtree(directory / CHECKPOINT_DIR, ignore_errors=True)
