"""A trained model's labels for uint8 images, predicted in chunks that bound the memory used."""

from __future__ import annotations

import logging

import keras
import numpy as np
from tqdm import tqdm

from marslib.data import to_model_input

# images converted to float32 at once: bounds memory on the 10022-image test set
CHUNK = 1024
RETRACING_NOTICE = "triggered tf.function retracing"


class WithoutRetracingNotice(logging.Filter):
    """Drops TensorFlow's notice that recent calls "triggered tf.function retracing".

    Every model has its own predict function, traced once per batch shape (a set's last batch is
    usually shorter), so a chapter that predicts with a few models reaches the notice's threshold
    by design; its advice is about `tf.function` code the reader never wrote. Every other
    TensorFlow message passes.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        return RETRACING_NOTICE not in record.getMessage()


logging.getLogger("tensorflow").addFilter(WithoutRetracingNotice())


def predict(
    model: keras.Model,
    images: np.ndarray,
    *,
    batch_size: int = 64,
    flip: bool = False,
    progress: bool = False,
) -> np.ndarray:
    """Predicted class of every pixel.

    Each batch goes through `keras.Model.predict_on_batch`: the model's own compiled predict
    function, the one `keras.Model.predict` runs, so the probabilities are the same to the bit,
    without the `tf.data` pipeline that `predict` builds on every call (10-15% of the CPU time
    of a quick model's prediction on a CPU; `python -m marslib bench train`).

    Args:
        model: maps float32 (B, H, W, 1) in [0, 1] to probabilities (B, H, W, 5).
        images: uint8 (N, H, W) greyscale images.
        batch_size: images per forward pass.
        flip: test-time augmentation: average the probabilities of each image and of its
            left-right mirror (mirrored back) before taking the most likely class.
        progress: show a progress bar over chunks of `CHUNK` images.

    Returns:
        uint8 (N, H, W) labels 0..4 (the first of equally likely classes, as `np.argmax`).
    """
    images = _checked(images)
    labels = np.empty(images.shape, dtype=np.uint8)
    for start in tqdm(
        range(0, len(images), CHUNK), desc="predict", unit="chunk", disable=not progress
    ):
        inputs = to_model_input(images[start : start + CHUNK])
        for first in range(0, len(inputs), batch_size):
            batch = inputs[first : first + batch_size]
            found = _batch_probabilities(model, batch, flip)
            labels[start + first : start + first + len(batch)] = np.argmax(found, axis=-1)
    return labels


def probabilities(
    model: keras.Model, images: np.ndarray, *, batch_size: int = 64, flip: bool = False
) -> np.ndarray:
    """The model's output for every pixel, for rules that combine models (an ensemble's mean,
    the refinement net's threshold) without predicting twice. `predict`'s labels are its argmax.

    Args:
        model: maps float32 (B, H, W, 1) in [0, 1] to probabilities (B, H, W, C).
        images: uint8 (N, H, W) greyscale images.
        batch_size: images per forward pass.
        flip: average each image's output with its left-right mirror's (mirrored back).

    Returns:
        float32 (N, H, W, C), 20 MB per thousand images of five classes: mind the memory on
        a large set (`predict` keeps only labels).
    """
    images = _checked(images)
    batches = [
        _batch_probabilities(model, to_model_input(images[first : first + batch_size]), flip)
        for first in range(0, len(images), batch_size)
    ]
    return np.concatenate(batches).astype(np.float32, copy=False)


def _checked(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"images must be uint8 (N, H, W), got {images.dtype} with shape {images.shape}"
        )
    return images


def _batch_probabilities(model: keras.Model, batch: np.ndarray, flip: bool) -> np.ndarray:
    """One batch's output (B, H, W, C); with `flip`, averaged with its mirror's, mirrored back."""
    found = model.predict_on_batch(batch)
    if flip:
        mirrored = model.predict_on_batch(batch[:, :, ::-1])
        found = (found + mirrored[:, :, ::-1]) / 2
    return found
