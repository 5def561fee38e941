"""A training run's resumable state: the history so far, the best epoch, and every variable.

`marslib.training.loop.run` saves a `Checkpoint` after each epoch and restores it when a killed run
is started again. What is saved is everything the next epoch depends on: the model's variables
(weights, normalisation statistics and the random-number state of dropout layers, which
`keras.Model.save_weights` leaves out) and the optimizer's (moments, step counter).
Files are written to a temporary name and renamed, so a kill never leaves half a file behind.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path

import keras
import numpy as np

from marslib.core.files import read_json, write_json, write_with


@dataclass
class TrainingState:
    """What the loop knows after some epochs: the history rows, the best epoch so far and the
    seconds spent training (summed over every process that worked on the run)."""

    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int | None = None
    best_value: float | None = None
    seconds: float = 0.0

    @property
    def epoch(self) -> int:
        """Number of finished epochs (the next epoch's index)."""
        return len(self.history)

    def improves(self, value: float) -> bool:
        """True when `value` (validation mIoU) beats every earlier epoch's."""
        return self.best_value is None or value > self.best_value

    def stopped(self, patience: int) -> bool:
        """Early stopping: `patience` epochs have passed without a better validation mIoU."""
        return self.best_epoch is not None and self.epoch - 1 - self.best_epoch >= patience


def state_variables(model: keras.Model) -> list[keras.Variable]:
    """Every variable a resumed run needs: the model's (weights, normalisation statistics and
    dropout's random-number state, which `save_weights` leaves out) and the optimizer's."""
    if not model.optimizer.built:  # building twice adds variables (a LossScaleOptimizer's)
        model.optimizer.build(model.trainable_variables)
    return [*model.variables, *model.optimizer.variables]


def save_arrays(path: Path, variables: list[keras.Variable]) -> None:
    """Save the values of `variables`, in order, to the .npz file `path` (atomically)."""
    write_with(
        path, lambda handle: np.savez(handle, *[keras.ops.convert_to_numpy(v) for v in variables])
    )


def load_arrays(path: Path, variables: list[keras.Variable]) -> None:
    """Assign the arrays saved by `save_arrays` to `variables`;
    a ValueError if they do not match."""
    with np.load(path) as stored:
        arrays = [stored[f"arr_{i}"] for i in range(len(stored.files))]
    if len(arrays) != len(variables) or any(
        a.shape != tuple(v.shape) for a, v in zip(arrays, variables)
    ):
        raise ValueError(
            f"checkpoint {path} does not match this model; delete {path.parent} to start again"
        )
    for variable, array in zip(variables, arrays):
        variable.assign(array)


class Checkpoint:
    """The ``checkpoint/`` folder of a run: ``state.json`` names the files that are current.

    After each epoch: the new state arrays ``epoch-NNNN.npz`` (and ``best-NNNN.npz`` when the
    epoch is the best so far) are written first, then ``state.json`` is replaced atomically,
    then the files it no longer names are deleted. A kill at any point leaves a consistent state.
    """

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.state_path = folder / "state.json"

    def load(self) -> TrainingState:
        """The saved state (a fresh one if there is none)."""
        if not self.state_path.exists():
            return TrainingState()
        state = TrainingState(**read_json(self.state_path))
        self._remove_stale(state)
        return state

    def restore(self, model: keras.Model, state: TrainingState) -> None:
        """Put the model and optimizer back as they were after `state.epoch` epochs."""
        if state.epoch:
            load_arrays(self._epoch_path(state.epoch), state_variables(model))

    def restore_best(self, model: keras.Model, state: TrainingState) -> None:
        """Put the best epoch's model variables back (early stopping's "restore best weights")."""
        load_arrays(self._best_path(state.best_epoch), model.variables)

    def save(self, model: keras.Model, state: TrainingState, *, best: bool) -> None:
        """Save after an epoch; `best` also keeps the model variables as the best epoch's."""
        self.folder.mkdir(parents=True, exist_ok=True)
        if best:
            save_arrays(self._best_path(state.epoch - 1), model.variables)
        save_arrays(self._epoch_path(state.epoch), state_variables(model))
        write_json(self.state_path, dataclasses.asdict(state))
        self._remove_stale(state)

    def _epoch_path(self, epochs_done: int) -> Path:
        return self.folder / f"epoch-{epochs_done:04d}.npz"

    def _best_path(self, epoch: int) -> Path:
        return self.folder / f"best-{epoch:04d}.npz"

    def _remove_stale(self, state: TrainingState) -> None:
        current = {self._epoch_path(state.epoch).name}
        if state.best_epoch is not None:
            current.add(self._best_path(state.best_epoch).name)
        for path in self.folder.glob("*.npz*"):
            if path.name not in current:
                path.unlink()
