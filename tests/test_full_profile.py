"""The full profile's GPU code path, run on a CPU: `mixed_float16` and an XLA-compiled step.

`building.build_model(..., on_gpu=True)` gives an experiment of the full profile what Colab gives
it: the model built under the `mixed_float16` policy, AdamW wrapped in a loss-scale optimizer,
the training step compiled by XLA (which compiles on a CPU too). Each of the five models, at a
tiny width, trains two steps, is saved and reloaded, and resumes from a checkpoint; whatever
breaks here would break on Colab. XLA compiles each model's training step once for the
trained model and once for the resumed one: several seconds of CPU each.

The CPU's own fast path is checked too: the full profile on a CPU with bfloat16 units trains
under `mixed_bfloat16`, every model, with float32 weights, probabilities and loss.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import pytest
from conftest import no_op_determinism
from keras import ops

from marslib import models
from marslib.core import hardware
from marslib.data import to_model_input
from marslib.training import building, epochs, tasks
from marslib.training.checkpoint import Checkpoint, TrainingState
from marslib.training.experiment import Experiment

# The smallest widths each architecture takes at 64x128: fewer layers compile faster.
TINY: dict[str, dict[str, object]] = {
    "unet": {"base_filters": 2, "depth": 1},
    "deeplabv3": {"base_filters": 2, "depth": 1, "atrous_rates": (2,)},
    "wnet": {"base_filters": 2, "depth": 1},
    "pspnet": {"base_filters": 2, "depth": 1, "bins": (1, 2)},
    "attention_psp": {"base_filters": 2, "depth": 1, "bins": (1, 2)},
}
RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (4, 64, 128), dtype=np.uint8)  # two steps of batch 2
MASKS = RNG.integers(0, 5, (4, 64, 128), dtype=np.uint8)


@pytest.fixture(scope="module", autouse=True)
def as_on_a_gpu() -> Iterator[None]:
    """Every test here, and the module's fixtures, build models as on a GPU: XLA needs op
    determinism off (`conftest.no_op_determinism`)."""
    with no_op_determinism():
        yield


def full_experiment(name: str) -> Experiment:
    return Experiment(
        name="full_on_cpu", model=name, profile="full", model_options=TINY[name], batch_size=2
    )


def dtype(tensor: object) -> str:
    return keras.backend.standardize_dtype(tensor.dtype)


def built_and_checked(experiment: Experiment) -> keras.Model:
    """`build_model` as on a GPU, checked before any training: the policy, the loss-scale
    optimizer and XLA as the full profile asks, float32 probabilities and a float32 loss."""
    model = building.build_model(experiment, None, on_gpu=True)
    resolved = experiment.resolved()  # what the full profile asks:
    assert resolved.mixed_precision and resolved.jit_compile
    assert model.dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.jit_compile is True
    probabilities = model(to_model_input(IMAGES[:2]), training=False)
    assert dtype(probabilities) == "float32", f"the model outputs {dtype(probabilities)}"
    loss = model.loss(MASKS[:2], probabilities)
    assert dtype(loss) == "float32", f"the loss returns {dtype(loss)}"
    assert np.isfinite(float(loss))
    return model


@dataclass
class Trained:
    """A model of the full profile after one epoch (two steps), and what was saved then."""

    experiment: Experiment
    model: keras.Model
    logs: dict[str, float]
    checkpoint: Checkpoint
    state: list[np.ndarray]  # the model's and the optimizer's variables after the epoch


@pytest.fixture(scope="module", params=models.names())
def trained(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Trained:
    experiment = full_experiment(request.param)
    model = built_and_checked(experiment)
    logs = epochs.fit_epoch(model, IMAGES, MASKS, experiment, 0)
    state = [ops.convert_to_numpy(v) for v in [*model.variables, *model.optimizer.variables]]
    checkpoint = Checkpoint(tmp_path_factory.mktemp(request.param) / "checkpoint")
    checkpoint.save(model, TrainingState(history=[{"epoch": 0, **logs}]), best=False)
    return Trained(experiment, model, logs, checkpoint, state)


def test_two_steps_give_a_finite_loss(trained: Trained) -> None:
    assert set(trained.logs) == {"loss", "miou"}
    assert all(np.isfinite(value) for value in trained.logs.values())


def test_the_model_saves_and_reloads(trained: Trained, tmp_path: Path) -> None:
    path = tmp_path / "model.keras"
    trained.model.save(path)
    reloaded = keras.saving.load_model(path, compile=False, safe_mode=True)
    inputs = to_model_input(IMAGES[:2])
    probabilities = reloaded(inputs, training=False)
    assert dtype(probabilities) == "float32"
    # The same float16 weights; the attention gate's inner layers, made when it is built,
    # take the float32 policy of the reloading process, hence a float16-sized tolerance.
    np.testing.assert_allclose(
        ops.convert_to_numpy(probabilities),
        ops.convert_to_numpy(trained.model(inputs, training=False)),
        atol=1e-3,
    )


def test_training_resumes_from_a_checkpoint(trained: Trained) -> None:
    resumed = building.build_model(trained.experiment, None, on_gpu=True)
    trained.checkpoint.restore(resumed, trained.checkpoint.load())
    restored = [*resumed.variables, *resumed.optimizer.variables]
    assert len(restored) == len(trained.state)
    for variable, saved in zip(restored, trained.state):
        np.testing.assert_array_equal(ops.convert_to_numpy(variable), saved)
    uninterrupted = epochs.fit_epoch(trained.model, IMAGES, MASKS, trained.experiment, 1)
    assert epochs.fit_epoch(resumed, IMAGES, MASKS, trained.experiment, 1) == uninterrupted
    for variable, reference in zip(resumed.variables, trained.model.variables, strict=True):
        np.testing.assert_array_equal(
            ops.convert_to_numpy(variable), ops.convert_to_numpy(reference)
        )


class HalfCrossEntropy(keras.losses.Loss):
    """Cross-entropy computed and returned in float16: what the full profile must refuse."""

    def __init__(self) -> None:
        super().__init__(name="half_cross_entropy", dtype="float16")

    def call(self, y_true: object, y_pred: object) -> object:
        return ops.cast(ops.sparse_categorical_crossentropy(y_true, y_pred), "float16")


def test_the_check_fails_for_a_loss_that_returns_float16(monkeypatch: pytest.MonkeyPatch) -> None:
    # Keras trains with such a loss without complaint, at float16's precision; only the check
    # of the loss's dtype finds it.
    monkeypatch.setattr(tasks.Task, "loss", lambda self, spec, weights, options: HalfCrossEntropy())
    with pytest.raises(AssertionError, match="the loss returns float16"):
        built_and_checked(full_experiment("unet"))


# ---------------------------------------------------------------- bfloat16 on a CPU


@pytest.mark.parametrize("name", models.names())
def test_the_full_profile_trains_in_bfloat16_on_a_cpu_that_has_it(
    name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # Forced on, so that this path runs on any CPU (TensorFlow emulates bfloat16 where the CPU
    # lacks it); the weights, the probabilities and the loss stay float32.
    monkeypatch.setattr(hardware, "cpu_bfloat16", lambda: True)
    experiment = full_experiment(name)
    model = building.build_model(experiment, None, on_gpu=False)
    assert model.dtype_policy.name == "mixed_bfloat16"
    assert not isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    assert model.jit_compile is False  # XLA only on a GPU
    assert all(dtype(weight) == "float32" for weight in model.weights)
    probabilities = model(to_model_input(IMAGES[:2]), training=False)
    assert dtype(probabilities) == "float32"
    assert dtype(model.loss(MASKS[:2], probabilities)) == "float32"
    logs = epochs.fit_epoch(model, IMAGES, MASKS, experiment, 0)
    assert all(np.isfinite(value) for value in logs.values())
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", compile=False, safe_mode=True)
    assert dtype(reloaded(to_model_input(IMAGES[:2]), training=False)) == "float32"


def test_the_policy_follows_the_profile_the_device_and_the_switch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    full = full_experiment("unet")
    quick = Experiment(name="q", model="unet", profile="quick")
    monkeypatch.setattr(hardware, "cpu_bfloat16", lambda: True)
    assert building.precision_policy(full, on_gpu=True) == "mixed_float16"
    assert building.precision_policy(full, on_gpu=False) == "mixed_bfloat16"
    assert building.precision_policy(quick, on_gpu=False) == "float32"  # quick sizes gain little
    assert building.precision_policy(quick, on_gpu=True) == "float32"
    monkeypatch.setattr(hardware, "cpu_bfloat16", lambda: False)
    assert building.precision_policy(full, on_gpu=False) == "float32"


def test_the_cpu_flags_decide_bfloat16_and_the_switch_turns_it_off(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    amx, plain = tmp_path / "amx", tmp_path / "plain"
    amx.write_text("processor\t: 0\nflags\t\t: fpu sse avx512f amx_bf16 amx_tile\n\n")
    plain.write_text("processor\t: 0\nflags\t\t: fpu sse avx2\n\n")
    monkeypatch.delenv(hardware.ENV_VAR, raising=False)
    assert "amx_bf16" in hardware.cpu_flags(amx)
    assert hardware.cpu_bfloat16(amx) and not hardware.cpu_bfloat16(plain)
    assert not hardware.cpu_bfloat16(tmp_path / "no-such-file")
    monkeypatch.setenv(hardware.ENV_VAR, "0")
    assert not hardware.cpu_bfloat16(amx)
    monkeypatch.setenv(hardware.ENV_VAR, "yes")
    with pytest.raises(ValueError, match="must be 0 \\(off\\) or 1"):
        hardware.cpu_bfloat16(amx)
