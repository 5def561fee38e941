"""What the full profile's GPU settings buy (`python -m marslib bench gpu`).

Where TensorFlow sees a GPU, the full-size Attention + PSP (the report's final model) trains a
few epochs of random images through `marslib.training.epochs.fit_epoch`, in batches of the full
profile's size, twice: in float32, then with the full profile's `mixed_float16` policy and
XLA-compiled step. For each it gives the seconds of an epoch (the best epoch after a warm-up
epoch that traces and compiles), images per second and the peak GPU memory that TensorFlow's
allocator held (`tf.config.experimental.get_memory_info`); then the speed-up of the second over
the first. Without a GPU it says so and measures nothing.
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from marslib.bench.measurement import Measurement
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.training.building import build_model
from marslib.training.epochs import fit_epoch
from marslib.training.experiment import Experiment

MODEL = "attention_psp"
DEVICE = "GPU:0"
# Random images per epoch and epochs timed after the warm-up epoch, by scale.
SCALES: dict[str, dict[str, int]] = {
    "small": {"images": 1024, "epochs": 2},
    "full": {"images": 4096, "epochs": 3},
}
SETTINGS = {"float32": False, "mixed precision + XLA": True}


def experiment(fast: bool) -> Experiment:
    """The full profile's Attention + PSP (full size, batches of 64); `fast`: with its mixed
    precision and XLA, else float32 without XLA; every profile value filled in."""
    return Experiment(
        name="bench_gpu",
        model=MODEL,
        profile="full",
        mixed_precision=fast,
        jit_compile=fast,
    ).resolved()


def reset_peak_memory() -> None:
    """Start counting the GPU's peak memory afresh."""
    tf.config.experimental.reset_memory_stats(DEVICE)


def peak_memory() -> int:
    """Bytes of GPU memory TensorFlow's allocator held at most since `reset_peak_memory`."""
    return int(tf.config.experimental.get_memory_info(DEVICE)["peak"])


def train_epochs(recipe: Experiment, images: int, epochs: int) -> dict[str, float]:
    """Train `recipe`'s model as on a GPU for one warm-up epoch and `epochs` timed ones.

    Args:
        recipe: the experiment (its model, batch size, mixed precision and XLA).
        images: random uint8 images (and labels) (images, 64, 128) per epoch.
        epochs: timed epochs after the warm-up.

    Returns:
        ``{"seconds": best epoch's seconds, "images/s": images / seconds, "peak bytes": ...}``.
    """
    keras.utils.clear_session()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (images, *IMAGE_SHAPE), dtype=np.uint8)
    y = rng.integers(0, NUM_CLASSES, (images, *IMAGE_SHAPE), dtype=np.uint8)
    model = build_model(recipe, None, on_gpu=True)
    reset_peak_memory()
    fit_epoch(model, x, y, recipe, 0)  # warm-up: traces (and compiles) the step
    seconds = []
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        fit_epoch(model, x, y, recipe, epoch)
        seconds.append(time.perf_counter() - start)
    best = min(seconds)
    return {"seconds": best, "images/s": images / best, "peak bytes": float(peak_memory())}


def benchmark(scale: str) -> list[Measurement]:
    """The GPU area's figures (see the module docstring); none without a GPU.

    Args:
        scale: "small" (1024 images, two timed epochs per setting) or "full" (4096, three).
    """
    if scale not in SCALES:
        raise ValueError(f"scale must be one of {list(SCALES)}, got {scale!r}")
    if not tf.config.list_physical_devices("GPU"):
        print(
            "no GPU visible to TensorFlow: nothing to measure here "
            "(on Colab: Runtime > Change runtime type > GPU)",
            flush=True,
        )
        return []
    images, epochs = SCALES[scale]["images"], SCALES[scale]["epochs"]
    found, rates = [], {}
    for label, fast in SETTINGS.items():
        result = train_epochs(experiment(fast), images, epochs)
        rates[label] = result["images/s"]
        what = f"{MODEL} full, {label}"
        found += [
            Measurement(f"{what}: seconds per epoch of {images} images", result["seconds"], "s"),
            Measurement(f"{what}: training", result["images/s"], "images/s"),
            Measurement(f"{what}: peak GPU memory", result["peak bytes"] / 2**20, "MiB"),
        ]
    speed_up = rates["mixed precision + XLA"] / rates["float32"]
    found.append(Measurement(f"{MODEL} full: mixed precision + XLA speed-up", speed_up, "x"))
    return found
