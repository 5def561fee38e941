"""Throughput of the three ways to augment: by hand, with Albumentations, inside tf.data.

`python -m marslib bench augment` prints these figures. All three run the same "safe"
augmentation (mirrors and small shifts); Albumentations' "rich" pipeline and tf.data without
augmentation are measured too, for scale. The inputs are random 64x128 pictures: throughput of
these transforms does not depend on what the pictures show.

The quick-profile U-Net trains at one to a few hundred images per second on a laptop CPU; an
input pipeline at five times that or more is never what training waits for.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from marslib.augment import albu, hand
from marslib.bench.measurement import Measurement
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES

SIZES = {"small": 1024, "full": 4096}
BATCH_SIZE = 32
TF_DATA_IMAGES = 4096


def random_pairs(count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Random uint8 images (count, 64, 128) and uint8 masks (count, 64, 128) with values 0..4."""
    rng = np.random.default_rng(seed)
    images = rng.integers(0, 256, size=(count, *IMAGE_SHAPE), dtype=np.uint8)
    masks = rng.integers(0, NUM_CLASSES, size=(count, *IMAGE_SHAPE), dtype=np.uint8)
    return images, masks


def images_per_second(run: Callable[[], object], count: int, repeats: int = 2) -> float:
    """Best of `repeats` timed calls of `run`, which handles `count` images,
    as images per second."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return count / best


def tf_data_images_per_second(images: np.ndarray, masks: np.ndarray, augment: str | None) -> float:
    """Images per second of `pipeline.make_dataset`, after a warm-up epoch, over at least
    `TF_DATA_IMAGES` images (tf.data tunes its parallelism while it runs, so short runs
    undersell it)."""
    from marslib.augment.pipeline import make_dataset

    dataset = make_dataset(images, masks, BATCH_SIZE, augment=augment, seed=0)
    epochs = max(1, -(-TF_DATA_IMAGES // len(images)))

    def run() -> None:
        for _ in range(epochs):
            for _ in dataset:
                pass

    for _ in dataset:
        pass
    return images_per_second(run, epochs * len(images))


def benchmark(scale: str = "small") -> list[Measurement]:
    """Measure augmentation throughput on this machine.

    Args:
        scale: "small" (1024 images) or "full" (4096 images).

    Returns:
        one Measurement (images/s) per way of augmenting.
    """
    if scale not in SIZES:
        raise ValueError(f"scale must be one of {list(SIZES)}, got {scale!r}")
    images, masks = random_pairs(SIZES[scale])
    count = len(images)
    return [
        Measurement(
            "hand-written NumPy, safe (left-right mirror + shifts), one image at a time",
            images_per_second(lambda: hand.augment(images, masks, hand.SAFE, seed=0), count),
            "images/s",
        ),
        Measurement(
            "Albumentations, safe (left-right mirror + shifts)",
            images_per_second(lambda: albu.apply("safe", images, masks, seed=0), count),
            "images/s",
        ),
        Measurement(
            "Albumentations, rich (+ rotation, zoom, brightness)",
            images_per_second(lambda: albu.apply("rich", images, masks, seed=0), count),
            "images/s",
        ),
        Measurement(
            "tf.data, no augmentation", tf_data_images_per_second(images, masks, None), "images/s"
        ),
        Measurement(
            "tf.data, safe (left-right mirror + shifts)",
            tf_data_images_per_second(images, masks, "safe"),
            "images/s",
        ),
    ]
