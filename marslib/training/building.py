"""Build and compile a run's model for training: its dtype policy, AdamW, its loss and metric,
and its learning-rate schedule.

    model = build_model(experiment, class_weights, on_gpu=False)   # compiled, seeded
    set_schedule(model, experiment, steps_per_epoch)                # the rate over all epochs

Where the experiment asks for mixed precision (the full profile does; set
``mixed_precision=False`` to switch it off), the model is built under the `mixed_float16` policy
on a GPU, under `mixed_bfloat16` on a CPU with bfloat16 units (`marslib.core.hardware`;
``MARSLIB_CPU_BFLOAT16=0`` switches that off), and in float32 elsewhere (`precision_policy`); the
training step is XLA-compiled on a GPU where the experiment asks for it (``jit_compile``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras

from marslib import models
from marslib.core import hardware
from marslib.training import tasks

if TYPE_CHECKING:
    import numpy as np

    from marslib.training.experiment import Experiment


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

    Sets the global random seed to `experiment.seed`: the weights, and with `epochs.fit_epoch`'s
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
