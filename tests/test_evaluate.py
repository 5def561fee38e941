"""Predictions, scores and pictures of a trained model, against NumPy,
scikit-learn and Keras directly."""

from __future__ import annotations

import logging
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import jaccard_score

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from marslib import metrics, models, training
from marslib.analysis import table1
from marslib.data import to_model_input  # noqa: E402
from marslib.figures import results
from marslib.models import inference

RNG = np.random.default_rng(0)
IMAGES = RNG.integers(0, 256, (7, 64, 128), dtype=np.uint8)
MASKS = RNG.integers(0, 5, (7, 64, 128), dtype=np.uint8)


@pytest.fixture(scope="module")
def model() -> keras.Model:
    keras.utils.set_random_seed(0)
    return models.build("unet", base_filters=4, depth=2)


def test_predict_is_the_argmax_of_keras_predict_across_chunks(
    model: keras.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inference, "CHUNK", 3)  # 7 images: chunks of 3, 3 and 1
    expected = model.predict(to_model_input(IMAGES), verbose=0).argmax(axis=-1)
    predicted = models.predict(model, IMAGES, batch_size=2)
    assert predicted.dtype == np.uint8 and predicted.shape == IMAGES.shape
    np.testing.assert_array_equal(predicted, expected)


def test_flip_averages_with_the_mirrored_prediction(model: keras.Model) -> None:
    inputs = to_model_input(IMAGES)
    plain = model.predict(inputs, verbose=0)
    mirrored = model.predict(inputs[:, :, ::-1], verbose=0)[:, :, ::-1]
    np.testing.assert_array_equal(
        models.predict(model, IMAGES, flip=True), ((plain + mirrored) / 2).argmax(axis=-1)
    )


def test_flip_averaging_across_chunks_and_batches(
    model: keras.Model, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inference, "CHUNK", 3)  # 7 images: chunks of 3, 3 and 1, batches of 2
    inputs = to_model_input(IMAGES)
    plain = model.predict(inputs, verbose=0)
    mirrored = model.predict(inputs[:, :, ::-1], verbose=0)[:, :, ::-1]
    np.testing.assert_array_equal(
        models.predict(model, IMAGES, batch_size=2, flip=True),
        ((plain + mirrored) / 2).argmax(axis=-1),
    )


def test_predict_refuses_float_images(model: keras.Model) -> None:
    with pytest.raises(ValueError, match="uint8"):
        models.predict(model, IMAGES.astype(np.float32))


def _retrace(function: tf.types.experimental.PolymorphicFunction) -> None:
    for number in range(1, 8):  # a Python number is part of the trace key: 7 traces
        function(number)


def test_tensorflows_retracing_notice_is_dropped_and_other_warnings_pass(
    caplog: pytest.LogCaptureFixture,
) -> None:
    tf_logger = logging.getLogger("tensorflow")
    (dropper,) = [f for f in tf_logger.filters if isinstance(f, inference.WithoutRetracingNotice)]
    with caplog.at_level(logging.WARNING):
        _retrace(tf.function(lambda x: 2 * x, autograph=False))
        tf_logger.warning("another warning")
    assert [record.getMessage() for record in caplog.records] == ["another warning"]
    caplog.clear()
    tf_logger.removeFilter(dropper)
    try:  # without the filter, TensorFlow does print the notice (another function: its own count)
        with caplog.at_level(logging.WARNING):
            _retrace(tf.function(lambda x: 3 * x, autograph=False))
    finally:
        tf_logger.addFilter(dropper)
    assert any(inference.RETRACING_NOTICE in record.getMessage() for record in caplog.records)


def test_scores_match_scikit_learn_on_the_scored_pixels() -> None:
    predicted = np.where(
        RNG.random(MASKS.shape) < 0.6, MASKS, RNG.integers(0, 5, MASKS.shape)
    ).astype(np.uint8)
    found = metrics.scores(MASKS, predicted)
    scored = MASKS != 0
    expected = jaccard_score(MASKS[scored], predicted[scored], labels=[1, 2, 3, 4], average=None)
    np.testing.assert_allclose(list(found["per_class_iou"].values()), expected)
    assert found["miou"] == pytest.approx(expected.mean())
    assert (
        list(found["per_class_iou"]) == ["Soil", "Bedrock", "Sand", "Big Rock"]
        and found["images"] == 7
    )


def test_per_image_miou_by_hand_and_against_scikit_learn() -> None:
    truth = np.array([[[1, 1, 2, 2]], [[0, 0, 0, 0]], [[3, 3, 0, 4]]], dtype=np.uint8)
    guess = np.array([[[1, 2, 2, 2]], [[1, 1, 1, 1]], [[3, 0, 4, 4]]], dtype=np.uint8)
    # Image 0: soil 1/2, bedrock 2/3. Image 1: only background truth. Image 2: sand 1/2,
    # Big Rock 1/1 (the pixel predicted Big Rock over true background is ignored).
    np.testing.assert_allclose(
        metrics.per_image_miou(truth, guess), [(1 / 2 + 2 / 3) / 2, np.nan, (1 / 2 + 1) / 2]
    )
    predicted = np.where(
        RNG.random(MASKS.shape) < 0.5, MASKS, RNG.integers(0, 5, MASKS.shape)
    ).astype(np.uint8)
    for index, value in enumerate(metrics.per_image_miou(MASKS, predicted)):
        keep = MASKS[index] != 0
        t, p = MASKS[index][keep], predicted[index][keep]
        present = sorted(set(np.unique(t)) | set(np.unique(p)) - {0})
        assert value == pytest.approx(jaccard_score(t, p, labels=present, average=None).mean())


def test_confusion_heatmap_shows_row_shares_of_the_confusion_matrix() -> None:
    predicted = np.roll(MASKS, 1, axis=2)
    ax = results.confusion_heatmap(MASKS, predicted)
    expected = sk_confusion_matrix(
        MASKS.ravel(), predicted.ravel(), labels=range(5), normalize="true"
    )
    shown = np.array([float(text.get_text()) for text in ax.texts]).reshape(5, 5)
    np.testing.assert_allclose(shown, expected, atol=0.005)
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        "Background",
        "Soil",
        "Bedrock",
        "Sand",
        "Big Rock",
    ]
    counts = results.confusion_heatmap(MASKS, predicted, normalize=False)
    assert [int(t.get_text()) for t in counts.texts] == metrics.confusion_matrix(
        MASKS, predicted
    ).ravel().tolist()
    plt.close("all")


def test_error_map_colours() -> None:
    picture = results.error_map(np.array([[0, 1, 2]]), np.array([[3, 1, 3]]))
    np.testing.assert_allclose(picture[0], [(0.6, 0.6, 0.6), (1, 1, 1), (0.85, 0.1, 0.1)])
    with pytest.raises(ValueError, match="same shape"):
        results.error_map(np.zeros((2, 2)), np.zeros((2, 3)))


def test_prediction_gallery_has_four_panels_per_image() -> None:
    figure = results.prediction_gallery(IMAGES, MASKS, MASKS, indices=[4, 1])
    titles = [ax.get_title() for ax in figure.axes]
    assert len(figure.axes) == 8 and titles[0] == "image 4" and titles[4] == "image 1"
    assert titles[1:3] == ["truth", "prediction"] and titles[3] == "errors (mIoU 1.00)"
    with pytest.raises(ValueError, match="no image"):
        results.prediction_gallery(IMAGES, MASKS, MASKS, indices=[])
    plt.close("all")


HISTORY = pd.DataFrame(
    {
        "epoch": [0, 1, 2],
        "loss": [1.0, 0.8, 0.7],
        "miou": [0.2, 0.3, 0.4],
        "val_loss": [1.1, 0.9, 0.95],
        "val_miou": [0.1, 0.3, 0.25],
    }
)


def _record(name: str, val: float | None, test: float | None, seconds: float) -> training.RunRecord:
    def split(value: float | None) -> dict | None:
        if value is None:
            return None
        return {
            "miou": value,
            "per_class_iou": {"Soil": value, "Bedrock": 0.5, "Sand": 0.6, "Big Rock": 0.1},
            "images": 3,
        }

    experiment = training.Experiment(
        name=name, model="pspnet", variant="cleaned", loss="scce", epochs=3
    )
    return training.RunRecord(
        directory=Path(name),
        experiment=experiment,
        history=HISTORY,
        metrics={
            "val": split(val),
            "test": split(test),
            "best_epoch": 1,
            "epochs_run": 3,
            "parameters": 1234,
        },
        provenance={
            "train_seconds": seconds,
            "data_source": "synthetic",
            "device": "CPU: x86_64, 2 cores",
        },
    )


def test_learning_curves_draw_training_and_validation() -> None:
    figure = results.learning_curves(_record("a", 0.3, 0.2, 1.0))
    assert [ax.get_title() for ax in figure.axes] == ["loss", "miou"]
    loss_lines = figure.axes[0].get_lines()
    np.testing.assert_allclose(loss_lines[0].get_ydata(), HISTORY["loss"])
    np.testing.assert_allclose(loss_lines[1].get_ydata(), HISTORY["val_loss"])
    assert loss_lines[2].get_xdata()[0] == 2  # the kept model: best epoch 1, drawn 1-based
    with pytest.raises(ValueError, match="no column"):
        results.learning_curves(HISTORY, metrics_shown=("dice",))
    plt.close("all")


def test_a_live_run_is_drawn_beside_the_reference_curve() -> None:
    reference = _record("unet_baseline", 0.3, 0.2, 1.0)
    ax = results.live_beside_reference({"val_miou": [0.05, 0.12], "miou": [0.1, 0.2]}, reference)
    curve, live, kept = ax.get_lines()
    np.testing.assert_allclose(curve.get_ydata(), HISTORY["val_miou"])
    np.testing.assert_allclose(live.get_xdata(), [1, 2])
    np.testing.assert_allclose(live.get_ydata(), [0.05, 0.12])
    assert (kept.get_xdata()[0], kept.get_ydata()[0]) == (2, 0.3)  # best epoch 1, 1-based
    with pytest.raises(ValueError, match="no 'val_dice' values"):
        results.live_beside_reference({"val_miou": [0.1]}, reference, metric="dice")
    plt.close("all")


def test_results_table_one_row_per_record() -> None:
    records = [_record("first", 0.3, 0.25, 10.0), _record("final", None, 0.4, 20.0)]
    table = table1.results_table(records)
    assert list(table.index) == ["first", "final"]
    assert table.loc["first", "val mIoU"] == 0.3 and np.isnan(table.loc["final", "val mIoU"])
    assert table.loc["final", "test mIoU"] == 0.4 and table.loc["final", "Soil IoU"] == 0.4
    assert (table["per-class split"] == "test").all() and table.loc["first", "Big Rock IoU"] == 0.1
    assert (
        table.loc["first", "training time (s)"] == 10.0 and table.loc["first", "parameters"] == 1234
    )
    assert {"model", "dataset", "loss", "data source", "profile", "device"} <= set(table.columns)
    by_val = table1.results_table(records, per_class="val")
    assert by_val.loc["first", "Soil IoU"] == 0.3 and np.isnan(by_val.loc["final", "Soil IoU"])
    no_test = table1.results_table([_record("x", 0.3, None, 1.0)])
    assert no_test.loc["x", "per-class split"] == "val"
    assert table1.results_table([]).empty
    with pytest.raises(ValueError, match="per_class"):
        table1.results_table(records, per_class="train")
