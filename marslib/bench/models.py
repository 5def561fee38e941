"""What each model costs: parameters, forward-pass FLOPs and images per second on this machine.

`benchmark(scale)` feeds ``python -m marslib bench models``; `table(scale)` gives the same
figures as a DataFrame for the book. Throughput is measured with `keras.Model.predict` and
`keras.Model.fit` on random arrays (batch 32, 64x128x1 images), after one warm-up pass that
traces the functions, so it reflects steady-state speed; on a shared CPU it varies with load.
"""

from __future__ import annotations

import logging
import time

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from marslib import models
from marslib.bench.measurement import Measurement
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES

BATCH_SIZE = 32
IMAGES = {"quick": 512, "full": 128}
COLUMNS = ("parameters", "MFLOPs per image", "inference images/s", "training images/s")


def forward_flops(model: keras.Model) -> int:
    """Floating-point operations of one forward pass on one image (batch 1, inference mode).

    Counted by TensorFlow's graph profiler over the traced graph: a convolution with a
    k x k kernel costs 2 * k * k * C_in * C_out operations per output pixel, plus the
    element-wise operations (bias, normalisation, activations).
    """
    spec = tf.TensorSpec((1, *model.input_shape[1:]), tf.float32)
    graph = tf.function(lambda x: model(x, training=False)).get_concrete_function(spec).graph
    options = tf.compat.v1.profiler.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    tf_logger = logging.getLogger("tensorflow")
    level = tf_logger.level
    tf_logger.setLevel(logging.ERROR)  # the v1 profiler warns about its own deprecated internals
    try:
        return int(tf.compat.v1.profiler.profile(graph=graph, options=options).total_float_ops)
    finally:
        tf_logger.setLevel(level)


def _random_batch(model: keras.Model, count: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    images = rng.random((count, *model.input_shape[1:]), dtype=np.float32)
    masks = rng.integers(
        0, model.output_shape[-1], (count, *model.output_shape[1:3]), dtype=np.int32
    )
    return images, masks


def inference_throughput(model: keras.Model, images: int = 512, repeats: int = 3) -> float:
    """Images per second of `model.predict` (batch 32):
    the best of `repeats` passes after a warm-up pass."""
    x, _ = _random_batch(model, images)
    model.predict(x, batch_size=BATCH_SIZE, verbose=0)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.predict(x, batch_size=BATCH_SIZE, verbose=0)
        seconds.append(time.perf_counter() - start)
    return images / min(seconds)


def training_throughput(model: keras.Model, images: int = 512, repeats: int = 3) -> float:
    """Images per second of `model.fit` (batch 32, Adam, sparse cross-entropy):
    the best of `repeats` epochs.

    One warm-up epoch first traces the training step. The best epoch rather than the mean is
    reported because other work on the machine only ever slows an epoch down.
    Compiles `model` (replacing any earlier compilation) and trains it on random data.
    """
    x, y = _random_batch(model, images)
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.fit(x, y, batch_size=BATCH_SIZE, epochs=1, verbose=0)
        seconds.append(time.perf_counter() - start)
    return images / min(seconds)


def table(scale: str = "small", names: list[str] | None = None) -> pd.DataFrame:
    """Cost of every model at each size, one row per (model, size).

    Args:
        scale: "small" measures the quick sizes; "full" both sizes. Each pass runs over
            `IMAGES[size]` random images (few for the full sizes, which are slow on a CPU).
        names: models to measure (default: all of `models.names()`).

    Returns:
        DataFrame indexed by (model, size) with the columns of `COLUMNS`.
    """
    if scale not in ("small", "full"):
        raise ValueError(f"scale must be 'small' or 'full', got {scale!r}")
    sizes = ["quick"] if scale == "small" else ["quick", "full"]
    rows = {}
    for name in names or models.names():
        for size in sizes:
            keras.utils.clear_session()
            model = models.build(name, (*IMAGE_SHAPE, 1), NUM_CLASSES, size=size)
            rows[(name, size)] = {
                "parameters": model.count_params(),
                "MFLOPs per image": forward_flops(model) / 1e6,
                "inference images/s": inference_throughput(model, IMAGES[size]),
                "training images/s": training_throughput(model, IMAGES[size]),
            }
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))
    frame.index.names = ["model", "size"]
    return frame


def benchmark(scale: str) -> list[Measurement]:
    """The `table` as printed measurements, e.g.
    ``Measurement("unet quick: training", 310.0, "images/s")``."""
    labels = {
        "parameters": ("size", "parameters"),
        "MFLOPs per image": ("forward pass", "MFLOP/image"),
        "inference images/s": ("inference", "images/s"),
        "training images/s": ("training", "images/s"),
    }
    return [
        Measurement(f"{name} {size}: {labels[column][0]}", float(value), labels[column][1])
        for (name, size), row in table(scale).iterrows()
        for column, value in row.items()
    ]
