"""Predictions, scores and pictures of a trained model, against NumPy,
scikit-learn and Keras directly."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import keras
import matplotlib
import numpy as np
import pandas as pd
import pytest
import tensorflow as tf
from conftest import TINY
from sklearn.metrics import confusion_matrix as sk_confusion_matrix
from sklearn.metrics import jaccard_score

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from marslib import cli, metrics, models, training
from marslib import data as mars_data
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


def test_the_one_scoring_call_by_hand_with_background_and_as_a_table_row() -> None:
    masks = np.array([[[0, 0, 0, 1, 2, 3, 4, 4]]], dtype=np.uint8)
    predicted = np.array([[[0, 1, 0, 0, 2, 3, 4, 0]]], dtype=np.uint8)
    # Scored pixels (true 1..4): soil missed (0), bedrock and sand right (1, 1), Big Rock 1 of 2.
    per_class = {"Soil": 0.0, "Bedrock": 1.0, "Sand": 1.0, "Big Rock": 0.5}
    plain = metrics.scores(masks, predicted)
    assert plain == {"miou": 0.625, "per_class_iou": per_class, "images": 1}  # a record's form
    found = metrics.scores(masks, predicted, background=True)
    assert list(found) == ["miou", "per_class_iou", "background", "images"]
    # 3 true background pixels, 2 found; 4 predicted background, 2 right; 2 of 5 terrain pixels
    # called background; 5-class IoU: background 2/5, soil 0, bedrock 1, sand 1, Big Rock 1/2.
    by_hand = {
        "background recall": 2 / 3,
        "background precision": 2 / 4,
        "terrain called background": 2 / 5,
        "5-class mIoU": (2 / 5 + 0 + 1 + 1 + 1 / 2) / 5,
    }
    assert found["background"] == pytest.approx(by_hand)
    row = metrics.score_row(found)
    assert row == pytest.approx(
        {"mIoU": 0.625, **{f"{name} IoU": v for name, v in per_class.items()}, **by_hand}
    )
    assert list(row)[:5] == ["mIoU", "Soil IoU", "Bedrock IoU", "Sand IoU", "Big Rock IoU"]
    assert list(metrics.score_row(plain)) == list(row)[:5]


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


# ---------------------------------------------------------------- python -m marslib evaluate


@pytest.fixture(scope="module")
def tiny_run(tiny_data: mars_data.MarsData, module_folders: Path) -> training.RunRecord:
    return training.run(training.Experiment.from_dict(TINY), tiny_data, verbose=0)


def _evaluate(
    arguments: list[str],
    data_set: mars_data.MarsData,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> dict:
    """Run ``python -m marslib evaluate`` on `data_set`; the scores it printed, as JSON."""
    monkeypatch.setattr(mars_data, "load", lambda path=None: data_set)
    assert cli.main(["evaluate", *arguments]) == 0
    out = capsys.readouterr().out
    return json.loads(out[out.index("\n{") : out.rindex("}") + 1])


def test_evaluate_prints_the_records_scores_on_the_records_images(
    tiny_run: training.RunRecord,
    tiny_data: mars_data.MarsData,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    """By default the command scores what the record scored (validation split and the public
    quarter of the test set: 4 of the 16 test images), so it prints the record's figures."""
    printed = _evaluate(
        [str(tiny_run.directory), "--output", str(tmp_path)], tiny_data, monkeypatch, capsys
    )
    assert set(printed) == {"val", "test"} and printed["test"]["images"] == 4
    for split in ("val", "test"):
        recorded = tiny_run.metrics[split]
        assert printed[split]["images"] == recorded["images"]
        assert metrics.score_row(printed[split]) == pytest.approx(
            metrics.score_row(recorded), abs=1e-9
        )
    assert {p.name for p in tmp_path.iterdir()} == {"confusion.png", "gallery.png", "curves.png"}


def test_evaluate_scores_the_whole_test_set_only_when_asked(
    tiny_run: training.RunRecord,
    tiny_data: mars_data.MarsData,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    printed = _evaluate(
        [str(tiny_run.directory), "--whole-test", "--output", str(tmp_path)],
        tiny_data,
        monkeypatch,
        capsys,
    )
    assert printed["test"]["images"] == 16
    # Every test image, scored here with Keras and scikit-learn (background pixels left out).
    inputs = tiny_data.test_images.astype(np.float32)[..., None] / 255
    predicted = tiny_run.load_model().predict(inputs, verbose=0).argmax(axis=-1)
    scored = tiny_data.test_masks != 0
    expected = jaccard_score(
        tiny_data.test_masks[scored],
        predicted[scored],
        labels=[1, 2, 3, 4],
        average=None,
        zero_division=1.0,
    )
    np.testing.assert_allclose(list(printed["test"]["per_class_iou"].values()), expected)
    assert printed["test"]["miou"] == pytest.approx(expected.mean())


@pytest.mark.parametrize("given", ["/nonexistent", "runs/missing", "./typo"])
def test_evaluate_answers_a_path_as_a_path(
    given: str, folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["evaluate", given]) == 2
    error = capsys.readouterr().err
    assert "no such run folder" in error and "does not exist" in error
    assert str(Path(given)) in error and "unknown experiment" not in error


def test_evaluate_answers_a_file_as_no_run_folder(
    folders: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    given = folders / "notes.txt"
    given.write_text("not a run")
    assert cli.main(["evaluate", str(given)]) == 2
    assert "is a file, not a run folder" in capsys.readouterr().err


def test_evaluate_still_answers_an_unknown_name_as_a_name(
    folders: Path,
    tiny_data: mars_data.MarsData,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(mars_data, "load", lambda path=None: tiny_data)
    assert cli.main(["evaluate", "pspnett"]) == 2
    assert "unknown experiment 'pspnett'" in capsys.readouterr().err
