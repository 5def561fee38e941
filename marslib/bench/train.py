"""What training, prediction and the submission cost on this machine
(`python -m marslib bench train`).

- The machine's matrix-multiply peak (GFLOP/s) in float32 and, where TensorFlow has the kernel,
  bfloat16: the ceiling that training's arithmetic is measured against.
- Training throughput (images/s) of every model at the quick and full sizes, through the exact
  epoch `marslib.training.loop.run` trains (`epochs.fit_epoch`: the `tf.data` pipeline, AdamW, the
  competition metric); the same as GFLOP/s (counted FLOPs: 3 x the forward pass's, for the
  forward and the backward pass) and as a percentage of the float32 peak.
- The speed of that epoch as a percentage of a plain ``model.fit`` on in-memory float32 arrays
  for the same compiled model: the input pipeline should cost nothing (target: 95% or more).
- Inference throughput of `marslib.models.predict`, and the seconds to predict the 10022 test images
  and write the submission CSV (wall clock, and the CPU seconds of this process, which other
  work on a shared machine changes less).
- The speed of the full profile's mixed precision against float32 for the full-size models: on
  a GPU `mixed_float16` + XLA, on a CPU with bfloat16 units `mixed_bfloat16`
  (`marslib.core.hardware`); skipped with a note elsewhere.

Every timing is the best of a few repeats after a warm-up that traces the functions:
other work on a shared machine only ever slows a run down, so the best run is the closest to the
machine's speed.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import tensorflow as tf

from marslib import models
from marslib.bench.measurement import Measurement
from marslib.bench.models import forward_flops
from marslib.core import hardware
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.data import to_model_input
from marslib.evaluation import submission
from marslib.training.building import build_model
from marslib.training.epochs import fit_epoch
from marslib.training.experiment import Experiment

BATCH_SIZE = 32
TEST_IMAGES = 10022
# Images per timed epoch, by model size: a quick epoch is timed at a realistic length, so the
# fixed cost of starting an epoch weighs on it as it does in a real run.
SCALES: dict[str, dict[str, object]] = {
    "small": {"models": ("unet",), "images": {"quick": 1024}, "repeats": 2},
    "full": {"models": None, "images": {"quick": 2048, "full": 256}, "repeats": 3},
}
# The matrix products that measure the peak: (PEAK_SIZE, PEAK_SIZE) @ (PEAK_SIZE, PEAK_SIZE).
PEAK_SIZE = 4096
PEAK_DTYPES = ("float32", "bfloat16")
FULL_IMAGES = 128  # images per timed full-size epoch on a CPU, where the scale names none


def _random_set(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """uint8 images (count, 64, 128) and masks with values 0..4."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, (count, *IMAGE_SHAPE), dtype=np.uint8)
    return images, rng.integers(0, NUM_CLASSES, (count, *IMAGE_SHAPE), dtype=np.uint8)


def _experiment(model: str, size: str, *, fast: bool = False) -> Experiment:
    return Experiment(
        name="bench",
        model=model,
        model_size=size,
        batch_size=BATCH_SIZE,
        profile="full" if fast else "quick",
        mixed_precision=fast,
        jit_compile=fast,
    )


def _best_seconds(step, repeats: int) -> float:
    step()  # warm-up: traces the functions
    seconds = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        seconds.append(time.perf_counter() - start)
    return min(seconds)


def matmul_peak(dtype: str, size: int = PEAK_SIZE, repeats: int = 5) -> float | None:
    """The machine's matrix-multiply speed in GFLOP/s: the best of `repeats` products of two
    random float (size, size) matrices in `dtype` (2 * size**3 operations each), after a warm-up.

    Runs where TensorFlow places it (the GPU if there is one). Returns None where TensorFlow has
    no matrix product in `dtype` on this machine.
    """
    a = tf.cast(tf.random.uniform((size, size), seed=1), dtype)
    b = tf.cast(tf.random.uniform((size, size), seed=2), dtype)

    def product() -> None:
        float(tf.linalg.matmul(a, b)[0, 0])  # reading one element waits for a GPU to finish

    try:
        seconds = _best_seconds(product, repeats)
    except (tf.errors.NotFoundError, tf.errors.InvalidArgumentError, tf.errors.InternalError):
        return None
    return 2 * size**3 / seconds / 1e9


def training_gflops(forward: int, images_per_second: float) -> float:
    """GFLOP/s of training at `images_per_second`, from `forward`, the FLOPs of one image's
    forward pass: the backward pass costs about twice the forward one, so 3 * forward per image.
    """
    return 3 * forward * images_per_second / 1e9


def marslib_throughput(
    model: str, size: str, images: int, repeats: int, *, fast: bool = False
) -> float:
    """Images per second of `fit_epoch` for `model` at `size` on random data."""
    keras.utils.clear_session()
    experiment = _experiment(model, size, fast=fast)
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    compiled = build_model(experiment, None, on_gpu=on_gpu)
    x, y = _random_set(images)
    return images / _best_seconds(lambda: fit_epoch(compiled, x, y, experiment, 0), repeats)


def pipeline_efficiency(model: str, images: int, repeats: int) -> float:
    """`fit_epoch`'s speed as a percentage of ``model.fit`` on in-memory arrays, same model.

    The two are timed in turns on one compiled model, each the best of `repeats` epochs.
    """
    keras.utils.clear_session()
    experiment = _experiment(model, "quick")
    compiled = build_model(experiment, None, on_gpu=bool(tf.config.list_physical_devices("GPU")))
    x, y = _random_set(images)
    arrays = (to_model_input(x), y.astype(np.int32))

    def ours() -> None:
        fit_epoch(compiled, x, y, experiment, 0)

    def plain() -> None:
        compiled.fit(*arrays, batch_size=BATCH_SIZE, epochs=1, shuffle=True, verbose=0)

    ours(), plain()  # warm-up: traces both input paths
    best = {"ours": np.inf, "plain": np.inf}
    for _ in range(repeats):
        for name, step in (("ours", ours), ("plain", plain)):
            start = time.perf_counter()
            step()
            best[name] = min(best[name], time.perf_counter() - start)
    return 100.0 * best["plain"] / best["ours"]


def inference_throughput(model: keras.Model, images: int, repeats: int) -> float:
    """Images per second of `marslib.models.predict` (batch 64)."""
    x, _ = _random_set(images)
    return images / _best_seconds(lambda: models.predict(model, x), repeats)


def submission_seconds(model: keras.Model, *, with_pandas: bool) -> dict[str, float]:
    """Seconds to predict 10022 random test images and write the CSV (wall clock, and this
    process's CPU seconds); to write it alone; and, if asked, for pandas' ``DataFrame.to_csv``
    to write the same table (for comparison)."""
    x, _ = _random_set(TEST_IMAGES, seed=1)
    models.predict(model, x[:64])  # warm-up
    found = {}
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "submission.csv"
        start, cpu = time.perf_counter(), time.process_time()
        labels = models.predict(model, x)
        submission.write_submission(labels, path)
        found["predict and write"] = time.perf_counter() - start
        found["predict and write, CPU"] = time.process_time() - cpu
        start = time.perf_counter()
        submission.write_submission(labels, path)
        found["write only"] = time.perf_counter() - start
        if with_pandas:
            table = pd.DataFrame(
                labels.reshape(len(labels), -1), columns=list(submission.COLUMNS[1:])
            )
            table.insert(0, "id", np.arange(len(labels)))
            start = time.perf_counter()
            table.to_csv(path, index=False)
            found["pandas to_csv"] = time.perf_counter() - start
    return found


def benchmark(scale: str) -> list[Measurement]:
    """The training area's figures for ``python -m marslib bench train`` (see the module docstring).

    Args:
        scale: "small" (the quick U-Net only: a few minutes on a 2-core CPU) or "full" (every
            model at both sizes, and pandas' CSV writer timed for comparison).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {list(SCALES)}, got {scale!r}")
    settings = SCALES[scale]
    names = settings["models"] or models.names()
    images, repeats = dict(settings["images"]), int(settings["repeats"])
    peaks = {dtype: matmul_peak(dtype) for dtype in PEAK_DTYPES}
    found = [
        Measurement(f"matmul peak, {dtype} ({PEAK_SIZE}x{PEAK_SIZE})", peak, "GFLOP/s")
        for dtype, peak in peaks.items()
        if peak is not None
    ]
    for name in names:
        for size, count in images.items():
            rate = marslib_throughput(name, size, count, repeats)
            keras.utils.clear_session()
            gflops = training_gflops(forward_flops(models.build(name, size=size)), rate)
            found += [
                Measurement(f"{name} {size}: training through marslib", rate, "images/s"),
                Measurement(f"{name} {size}: training, 3 x forward FLOPs", gflops, "GFLOP/s"),
                Measurement(
                    f"{name} {size}: training, % of the float32 matmul peak",
                    100.0 * gflops / peaks["float32"],
                    "%",
                ),
            ]
        found.append(
            Measurement(
                f"{name} quick: marslib epoch speed, % of plain model.fit",
                pipeline_efficiency(name, images["quick"], repeats),
                "%",
            )
        )
        keras.utils.clear_session()
        quick = models.build(name, size="quick")
        found.append(
            Measurement(
                f"{name} quick: inference (models.predict)",
                inference_throughput(quick, images["quick"], repeats),
                "images/s",
            )
        )
    keras.utils.clear_session()
    reference = models.build("unet", size="quick")
    seconds = submission_seconds(reference, with_pandas=scale == "full")
    found.append(
        Measurement(
            f"submission: predict {TEST_IMAGES} images + write CSV (unet quick)",
            seconds["predict and write"],
            "s",
        )
    )
    found.append(
        Measurement(
            "submission: the same, CPU seconds of this process",
            seconds["predict and write, CPU"],
            "s",
        )
    )
    found.append(
        Measurement(f"submission: write the {TEST_IMAGES}-row CSV", seconds["write only"], "s")
    )
    if "pandas to_csv" in seconds:
        found.append(
            Measurement(
                "submission: the same CSV with pandas DataFrame.to_csv",
                seconds["pandas to_csv"],
                "s",
            )
        )
    on_gpu = bool(tf.config.list_physical_devices("GPU"))
    if not on_gpu and not hardware.cpu_bfloat16():
        print(
            "note: neither a GPU nor a CPU with bfloat16 units (or MARSLIB_CPU_BFLOAT16=0), so "
            "the full profile trains in float32 here and mixed precision is not measured",
            flush=True,
        )
        return found
    label = "mixed precision + XLA" if on_gpu else "mixed_bfloat16"
    count = images["quick"] if on_gpu else images.get("full", FULL_IMAGES)
    for name in names:
        plain = marslib_throughput(name, "full", count, repeats)
        fast = marslib_throughput(name, "full", count, repeats, fast=True)
        found.append(
            Measurement(f"{name} full: {label} speed, % of float32", 100.0 * fast / plain, "%")
        )
    return found
