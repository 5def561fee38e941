"""The epoch loop: a run trained epoch by epoch from its last checkpoint, resumable and
deterministic.

    state = train_epochs(model, experiment, split, folder, verbose=0)   # the best weights loaded

After every epoch the whole training state (model and optimizer variables, including the
random-number state of dropout layers) and the history are saved in `folder`
(`marslib.training.checkpoint`). A run that was killed picks up after its last finished epoch and
ends with the record it would have had (on a CPU, bit for bit): each epoch draws its batches and
its random numbers from a seed derived from (seed, epoch) (`epoch_seed`), never from state left
over by earlier epochs, so epoch 7 sees the same batches whether or not the process was restarted
after epoch 6. This is also why `fit_epoch` calls ``model.fit`` once per epoch:
`keras.callbacks.BackupAndRestore` restores weights and the epoch counter but not the input
pipeline's shuffling state, so a resumed run would see other batches.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import keras
import numpy as np
import tensorflow as tf

from marslib.augment.pipeline import make_dataset
from marslib.training import tasks
from marslib.training.building import set_schedule
from marslib.training.checkpoint import Checkpoint, TrainingState

if TYPE_CHECKING:
    from pathlib import Path

    from marslib.training.experiment import Experiment
    from marslib.training.splits import TrainingSplit


def epoch_seed(seed: int, epoch: int) -> int:
    """The seed of everything random in epoch `epoch` of a run seeded with `seed`
    (0 <= value < 2**31)."""
    return int(np.random.SeedSequence([seed, epoch]).generate_state(1)[0] % (2**31))


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
    """Train one epoch as `loop.run` does: batches and random numbers drawn from
    `epoch_seed(seed, epoch)`.

    Args:
        model: a model compiled by `building.build_model`.
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


def train_epochs(
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
