"""On-the-fly augmentation inside a `tf.data` input pipeline.

    dataset = make_dataset(images, masks, batch_size=32, augment="flips", seed=0)
    model.fit(dataset, epochs=...)

Each epoch shuffles the images and draws new random flips and shifts, so a model rarely sees
the same picture twice, while nothing is stored beyond the original arrays. The pipeline is

    indices -> shuffle -> (index, key) -> parallel map: gather + joint transform
        -> batch -> prefetch

Determinism: every random decision is a *stateless* TensorFlow op whose seed is the pair
(key, index): ``key`` comes from ``tf.data.Dataset.random(seed)``, a stream that is the same in
every run with the same seed and changes from epoch to epoch; ``index`` is the image's position.
The shuffle is seeded too, and the parallel map keeps the order, so the same seed gives the same
batches, epoch after epoch, in every run on the same machine.

Joint transforms: the image and its mask are stacked into one uint8 tensor (H, W, 2) and
flipped or shifted as one, so they cannot drift apart; no transform interpolates, so the mask
keeps its exact labels. Uncovered pixels of a shift get grey level 0 and label Background.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from marslib.augment import AUGMENTATIONS
from marslib.augment.hand import MAX_SHIFT, check_pair
from marslib.core.classes import BACKGROUND


def _shift(pair: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
    """Move the stacked pair (H, W, 2) by up to `MAX_SHIFT` pixels; zeros (Background) fill in."""
    height, width = pair.shape[0], pair.shape[1]
    dy, dx = MAX_SHIFT
    padded = tf.pad(pair, [[dy, dy], [dx, dx], [0, 0]], constant_values=BACKGROUND)
    return tf.image.stateless_random_crop(padded, size=[height, width, 2], seed=seed)


def _augment(
    pair: tf.Tensor, steps: tuple[str, ...], key: tf.Tensor, index: tf.Tensor
) -> tf.Tensor:
    """Apply the named steps to the stacked pair (H, W, 2), each with its own stateless seed."""
    seeds = tf.random.experimental.stateless_split(tf.stack([key, index]), num=len(steps))
    for step, seed in zip(steps, tf.unstack(seeds), strict=True):
        if step == "hflip":
            pair = tf.image.stateless_random_flip_left_right(pair, seed)  # with probability 1/2
        elif step == "vflip":
            pair = tf.image.stateless_random_flip_up_down(pair, seed)
        else:
            pair = _shift(pair, seed)
    return pair


def _check(
    images: np.ndarray, masks: np.ndarray, batch_size: int, augment: str | None, seed: int
) -> None:
    images, masks = check_pair(images, masks)
    if images.ndim != 3 or len(images) == 0:
        raise ValueError(f"images must be a non-empty stack (N, H, W), got shape {images.shape}")
    if images.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (grey levels 0..255), got {images.dtype}")
    if (
        isinstance(batch_size, bool)
        or not isinstance(batch_size, int | np.integer)
        or batch_size < 1
    ):
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if augment is not None and augment not in AUGMENTATIONS:
        raise ValueError(f"augment must be None or one of {list(AUGMENTATIONS)}, got {augment!r}")
    if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be an integer in 0..2**63-1, got {seed!r}")


def make_dataset(
    images: np.ndarray,
    masks: np.ndarray,
    batch_size: int,
    augment: str | None = "flips",
    shuffle: bool = True,
    seed: int = 0,
) -> tf.data.Dataset:
    """A batched, prefetched dataset of model inputs and labels, augmented on the fly.

    Args:
        images: uint8 array (N, H, W), grey levels.
        masks: integer array (N, H, W), values 0..4.
        batch_size: images per batch; the last batch may be smaller.
        augment: None (no augmentation), "hflip", "flips" (both mirrors), "safe" (the
            left-right mirror and a shift of up to 4 rows and 8 columns) or "safe_vflip" (both
            mirrors and the shift).
        shuffle: reshuffle the images every epoch.
        seed: seed of the shuffle and of every augmentation choice.

    Returns:
        a finite `tf.data.Dataset` of
        (images float32 (B, H, W, 1) in [0, 1], masks int32 (B, H, W));
        iterating it again gives the next epoch.
    """
    _check(images, masks, batch_size, augment, seed)
    pairs = tf.constant(np.stack([images, masks.astype(np.uint8)], axis=-1))  # (N, H, W, 2) uint8
    count = len(images)
    indices = tf.data.Dataset.range(count)
    if shuffle:
        indices = indices.shuffle(count, seed=seed, reshuffle_each_iteration=True)

    if augment is None:
        dataset = indices.batch(batch_size).map(
            lambda batch: tf.gather(pairs, batch), num_parallel_calls=tf.data.AUTOTUNE
        )
    else:
        steps = AUGMENTATIONS[augment]
        keys = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
        dataset = tf.data.Dataset.zip((indices, keys)).map(
            lambda index, key: _augment(tf.gather(pairs, index), steps, key, index),
            num_parallel_calls=tf.data.AUTOTUNE,
            deterministic=True,
        )
        dataset = dataset.batch(batch_size)

    def to_model(batch: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
        images = tf.cast(batch[..., :1], tf.float32) / 255.0
        return images, tf.cast(batch[..., 1], tf.int32)

    return dataset.map(to_model, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True).prefetch(
        tf.data.AUTOTUNE
    )
