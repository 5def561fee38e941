"""Ensembles and flip averaging: the mean is exact, the flip is undone exactly, scores line up."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pytest

from marslib import metrics, models
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.data import to_model_input
from marslib.evaluation import ensemble


def images(count: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, size=(count, *IMAGE_SHAPE), dtype=np.uint8)


def lopsided_model() -> keras.Model:
    """A model that is not flip-equivariant: its logits lean on the column index and on a
    left-right asymmetric convolution, so the mirror of an image gets another answer."""
    inputs = keras.Input((*IMAGE_SHAPE, 1))
    columns = (
        keras.ops.ones_like(inputs)
        * np.linspace(-3.0, 3.0, IMAGE_SHAPE[1], dtype=np.float32)[None, None, :, None]
    )
    features = keras.layers.Concatenate()([inputs, columns])
    logits = keras.layers.Conv2D(
        NUM_CLASSES,
        (3, 5),
        padding="same",
        kernel_initializer=keras.initializers.RandomNormal(seed=4),
    )(features)
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def test_flip_averaging_undoes_the_mirror_exactly() -> None:
    model, pictures = lopsided_model(), images()
    x = to_model_input(pictures)
    plain, of_mirror = model.predict(x, verbose=0), model.predict(x[:, :, ::-1], verbose=0)
    assert not np.allclose(
        plain, of_mirror[:, :, ::-1], atol=1e-3
    )  # the test model is not flip-equivariant
    expected = np.argmax((plain + of_mirror[:, :, ::-1]) / 2, axis=-1)
    not_undone = np.argmax((plain + of_mirror) / 2, axis=-1)
    assert np.mean(expected != not_undone) > 0.05  # forgetting to mirror back would be caught
    np.testing.assert_array_equal(models.predict(model, pictures, flip=True), expected)


def test_flip_averaged_labels_mirror_with_the_image() -> None:
    model, pictures = lopsided_model(), images(seed=1)
    averaged = models.predict(model, pictures, flip=True)
    of_mirrors = models.predict(model, np.ascontiguousarray(pictures[:, :, ::-1]), flip=True)
    np.testing.assert_array_equal(of_mirrors, averaged[:, :, ::-1])
    plain = models.predict(model, pictures)
    assert not np.array_equal(
        models.predict(model, np.ascontiguousarray(pictures[:, :, ::-1])), plain[:, :, ::-1]
    )


def members(count: int = 3) -> list[keras.Model]:
    keras.utils.set_random_seed(2)
    return [models.build("unet", base_filters=2, depth=1) for _ in range(count)]


def test_ensemble_is_the_exact_mean_of_its_members(tmp_path: Path) -> None:
    parts, x = members(), to_model_input(images())
    model = ensemble.Ensemble(parts)  # three models of one architecture: the same name three times
    expected = np.mean([part.predict(x, verbose=0) for part in parts], axis=0)
    mean = model.predict(x, verbose=0)
    np.testing.assert_allclose(mean, expected, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(mean.sum(-1), 1.0, atol=1e-5)
    assert not np.allclose(mean, parts[0].predict(x, verbose=0), atol=1e-4)
    model.save(tmp_path / "ensemble.keras")
    again = keras.saving.load_model(tmp_path / "ensemble.keras", compile=False)
    np.testing.assert_array_equal(again.predict(x, verbose=0), mean)


def test_ensemble_refuses_what_cannot_be_averaged() -> None:
    parts = members(1)
    with pytest.raises(ValueError, match="at least 2"):
        ensemble.Ensemble(parts)
    with pytest.raises(ValueError, match="output shape"):
        ensemble.Ensemble([parts[0], models.build("unet", num_classes=2, base_filters=2, depth=1)])
    with pytest.raises(ValueError, match="keras.Model"):
        ensemble.Ensemble([parts[0], "pspnet"])


def test_evaluate_models_scores_each_model_with_and_without_flips() -> None:
    pictures = images(3)
    masks = np.random.default_rng(5).integers(0, NUM_CLASSES, size=pictures.shape).astype(np.uint8)
    table = ensemble.evaluate_models({"lopsided": lopsided_model()}, pictures, masks)
    assert list(table.index) == [("lopsided", False), ("lopsided", True)]
    predicted = models.predict(lopsided_model(), pictures, flip=True)
    row = table.loc[("lopsided", True)]
    assert row["mIoU"] == pytest.approx(metrics.competition_miou(masks, predicted))
    np.testing.assert_allclose(
        row[["Soil IoU", "Bedrock IoU", "Sand IoU", "Big Rock IoU"]].to_numpy(float),
        metrics.per_class_iou(masks, predicted),
    )
    assert {"background recall", "terrain called background", "5-class mIoU"} <= set(table.columns)
    with pytest.raises(ValueError, match="no model"):
        ensemble.evaluate_models({}, pictures, masks)
