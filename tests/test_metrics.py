"""The competition metric and the course's metric, against hand-computed values,
scikit-learn and Keras."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix
from sklearn.metrics import jaccard_score

from marslib import metrics
from marslib.core.classes import NUM_CLASSES

TERRAIN = [1, 2, 3, 4]


def random_labels(seed: int, shape: tuple[int, ...] = (4, 8, 10)) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.integers(0, NUM_CLASSES, size=shape), rng.integers(0, NUM_CLASSES, size=shape)


def sklearn_miou(y_true: np.ndarray, y_pred: np.ndarray) -> np.ndarray:
    """Per-class IoU of classes 1..4 on the pixels whose truth is not background
    (empty union -> 1)."""
    scored = y_true != 0
    return jaccard_score(
        y_true[scored], y_pred[scored], labels=TERRAIN, average=None, zero_division=1.0
    )


def as_probs(labels: np.ndarray, seed: int = 0) -> np.ndarray:
    """Random probabilities (..., 5) float32 whose argmax is `labels`."""
    noise = np.random.default_rng(seed).random(labels.shape + (NUM_CLASSES,)) * 0.5
    return (noise + np.eye(NUM_CLASSES)[labels]).astype(np.float32)


def streamed(
    metric: keras.metrics.Metric, y_true: np.ndarray, y_pred: np.ndarray, batch: int
) -> float:
    for start in range(0, len(y_true), batch):
        metric.update_state(
            y_true[start : start + batch], as_probs(y_pred[start : start + batch], start)
        )
    return float(metric.result())


# ---- NumPy functions ---------------------------------------------------------------------------


def test_confusion_matrix_matches_scikit_learn() -> None:
    y_true, y_pred = random_labels(0)
    ours = metrics.confusion_matrix(y_true, y_pred)
    assert ours.dtype == np.int64 and ours.shape == (5, 5)
    np.testing.assert_array_equal(
        ours, sklearn_confusion_matrix(y_true.ravel(), y_pred.ravel(), labels=range(5))
    )


def test_hand_computed_example() -> None:
    truth = np.array([[0, 1, 1, 2], [3, 3, 4, 2]])
    prediction = np.array([[2, 1, 2, 2], [3, 0, 4, 4]])
    np.testing.assert_allclose(
        metrics.per_class_iou(truth, prediction), [1 / 2, 1 / 3, 1 / 2, 1 / 2]
    )
    assert metrics.competition_miou(truth, prediction) == pytest.approx(
        (1 / 2 + 1 / 3 + 1 / 2 + 1 / 2) / 4
    )


@pytest.mark.parametrize("seed", range(3))
def test_mean_iou_matches_scikit_learn_jaccard(seed: int) -> None:
    y_true, y_pred = random_labels(seed)
    np.testing.assert_allclose(metrics.per_class_iou(y_true, y_pred), sklearn_miou(y_true, y_pred))
    assert metrics.competition_miou(y_true, y_pred) == pytest.approx(
        sklearn_miou(y_true, y_pred).mean()
    )


def test_predictions_on_true_background_pixels_do_not_count() -> None:
    y_true, y_pred = random_labels(3)
    changed = np.where(y_true == 0, (y_pred + 1) % NUM_CLASSES, y_pred)
    assert metrics.competition_miou(y_true, changed) == metrics.competition_miou(y_true, y_pred)


def test_absent_classes() -> None:
    # No Big Rock in the truth: never predicted -> IoU 1 (empty union); predicted once -> IoU 0.
    y_true = np.array([[1, 1, 2, 3]])
    np.testing.assert_allclose(metrics.per_class_iou(y_true, y_true), [1, 1, 1, 1])
    np.testing.assert_allclose(
        metrics.per_class_iou(y_true, np.array([[1, 4, 2, 3]])), [1 / 2, 1, 1, 0]
    )
    for y_pred in (y_true, np.array([[1, 4, 2, 3]]), np.array([[2, 2, 2, 2]])):
        np.testing.assert_allclose(
            metrics.per_class_iou(y_true, y_pred), sklearn_miou(y_true, y_pred)
        )


def test_all_background_truth_scores_one_and_the_course_metric_zero() -> None:
    y_true = np.zeros((2, 3, 3), dtype=np.int64)
    y_pred = random_labels(4, shape=(2, 3, 3))[1]
    assert metrics.competition_miou(y_true, y_pred) == 1.0
    assert metrics.course_miou(y_true, y_pred) == 0.0


def test_the_global_score_is_not_the_mean_of_per_image_scores() -> None:
    y_true = np.array([[[1, 1, 1, 1]], [[1, 2, 3, 4]]])
    y_pred = np.array([[[1, 1, 1, 1]], [[2, 1, 4, 3]]])
    per_image = np.mean([metrics.competition_miou(t, p) for t, p in zip(y_true, y_pred)])
    # Globally: soil 4 right out of 4 + 1 + 1 -> 4/6; the others 0.
    assert metrics.competition_miou(y_true, y_pred) == pytest.approx(4 / 6 / 4)
    assert per_image == pytest.approx((1 + 0) / 2)


def test_worked_example_course_0_700_competition_0_875() -> None:
    y_true, y_pred = metrics.course_vs_competition_example()
    terrain = y_true != 0
    assert np.mean(y_pred[terrain] == 0) == pytest.approx(1 / 8)
    np.testing.assert_allclose(metrics.per_class_iou(y_true, y_pred), [1, 1, 1, 0.5])
    assert metrics.competition_miou(y_true, y_pred) == pytest.approx(0.875)
    assert metrics.course_miou(y_true, y_pred) == pytest.approx(0.700)


@pytest.mark.parametrize(
    ("y_true", "y_pred", "message"),
    [
        (np.array([[1.0, 2.0]]), np.array([[1, 2]]), "integer"),
        (np.array([[1, 5]]), np.array([[1, 2]]), "0..4"),
        (np.array([[1, 2]]), np.array([[1, -1]]), "0..4"),
        (np.array([[1, 2]]), np.array([[1, 2, 3]]), "same shape"),
    ],
)
def test_bad_labels_are_refused(y_true: np.ndarray, y_pred: np.ndarray, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        metrics.competition_miou(y_true, y_pred)


def test_bad_confusion_shape_is_refused() -> None:
    with pytest.raises(ValueError, match="5, 5"):
        metrics.iou_from_confusion(np.zeros((4, 4)))


# ---- the streaming Keras metric ----------------------------------------------------------------


@pytest.mark.parametrize("batch", [1, 3, 7])
def test_streaming_over_batches_equals_the_one_shot_value(batch: int) -> None:
    y_true, y_pred = random_labels(5, shape=(7, 6, 8))
    metric = metrics.CompetitionMeanIoU()
    assert streamed(metric, y_true, y_pred, batch) == pytest.approx(
        metrics.competition_miou(y_true, y_pred), rel=1e-6
    )
    np.testing.assert_array_equal(
        metric.confusion_matrix(), metrics.confusion_matrix(y_true, y_pred)
    )


def test_streaming_metric_matches_keras_iou_when_every_class_is_present() -> None:
    y_true, y_pred = random_labels(6)
    reference = keras.metrics.IoU(
        num_classes=NUM_CLASSES, target_class_ids=TERRAIN, ignore_class=0, sparse_y_pred=False
    )
    reference.update_state(y_true, as_probs(y_pred))
    assert streamed(metrics.CompetitionMeanIoU(), y_true, y_pred, 2) == pytest.approx(
        float(reference.result()), rel=1e-5
    )


def test_streaming_metric_resets() -> None:
    y_true, y_pred = random_labels(7)
    metric = metrics.CompetitionMeanIoU()
    streamed(metric, y_true, 1 - y_true % 2, len(y_true))
    metric.reset_state()
    assert not metric.confusion_matrix().any()
    assert streamed(metric, y_true, y_pred, 2) == pytest.approx(
        metrics.competition_miou(y_true, y_pred), rel=1e-6
    )


def test_streaming_metrics_on_the_worked_example() -> None:
    y_true, y_pred = metrics.course_vs_competition_example()
    assert streamed(metrics.CompetitionMeanIoU(), y_true, y_pred, 1) == pytest.approx(
        0.875, rel=1e-6
    )
    assert streamed(metrics.CourseMeanIoU(), y_true, y_pred, 1) == pytest.approx(0.700, rel=1e-6)


@pytest.mark.parametrize("seed", range(3))
def test_course_metric_matches_its_numpy_twin_and_averages_over_present_classes(seed: int) -> None:
    y_true, y_pred = random_labels(seed + 10)
    y_pred[:, 0, :] = 0  # some terrain pixels predicted as background
    course = streamed(metrics.CourseMeanIoU(), y_true, y_pred, 3)
    assert course == pytest.approx(metrics.course_miou(y_true, y_pred), rel=1e-5)
    # Independent reference: scikit-learn's IoU of all five classes on the terrain pixels,
    # class 0 scoring 0.
    scored = y_true != 0
    five = jaccard_score(
        y_true[scored], y_pred[scored], labels=range(5), average=None, zero_division=0.0
    )
    assert course == pytest.approx(five.mean(), rel=1e-5)


def test_metrics_refuse_bad_inputs() -> None:
    y_true, y_pred = random_labels(8)
    for metric in (metrics.CompetitionMeanIoU(), metrics.CourseMeanIoU()):
        with pytest.raises(ValueError, match="sparse labels"):
            metric.update_state(np.eye(NUM_CLASSES)[y_true], as_probs(y_pred))
        with pytest.raises(ValueError, match="sample_weight"):
            metric.update_state(y_true, as_probs(y_pred), sample_weight=np.ones(y_true.shape))


def test_float16_probabilities_give_a_float32_result() -> None:
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    try:
        y_true, y_pred = random_labels(9)
        metric = metrics.CompetitionMeanIoU()
        metric.update_state(y_true, tf.constant(as_probs(y_pred), dtype=tf.float16))
        result = metric.result()
    finally:
        keras.config.set_dtype_policy(previous)
    assert result.dtype == tf.float32
    assert float(result) == pytest.approx(metrics.competition_miou(y_true, y_pred), rel=1e-6)


# ---- inside a model ----------------------------------------------------------------------------


def tiny_model() -> keras.Model:
    inputs = keras.Input((8, 10, 1))
    return keras.Model(inputs, keras.layers.Conv2D(NUM_CLASSES, 1, activation="softmax")(inputs))


def test_evaluate_with_xla_reports_the_global_score_of_the_predictions(
    without_op_determinism: None,
) -> None:
    rng = np.random.default_rng(11)
    images, labels = (
        rng.random((10, 8, 10, 1)).astype(np.float32),
        rng.integers(0, NUM_CLASSES, (10, 8, 10)),
    )
    model = tiny_model()
    model.compile(
        loss="sparse_categorical_crossentropy",
        metrics=[metrics.CompetitionMeanIoU()],
        jit_compile=True,
    )
    scores = model.evaluate(images, labels, batch_size=3, verbose=0, return_dict=True)
    assert model.jit_compile  # compiled by XLA, not silently without it
    predicted = model.predict(images, verbose=0).argmax(axis=-1)
    assert scores["miou"] == pytest.approx(metrics.competition_miou(labels, predicted), rel=1e-5)


def test_a_saved_model_reloads_with_its_metrics(tmp_path) -> None:
    rng = np.random.default_rng(12)
    images, labels = (
        rng.random((4, 8, 10, 1)).astype(np.float32),
        rng.integers(0, NUM_CLASSES, (4, 8, 10)),
    )
    model = tiny_model()
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=[metrics.CompetitionMeanIoU(), metrics.CourseMeanIoU()],
    )
    model.fit(images, labels, epochs=1, verbose=0)
    before = model.evaluate(images, labels, verbose=0, return_dict=True)
    model.save(tmp_path / "model.keras")
    reloaded = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True)
    after = reloaded.evaluate(images, labels, verbose=0, return_dict=True)
    assert after.keys() == before.keys() and {"miou", "course_miou"} <= after.keys()
    for name in ("miou", "course_miou"):
        assert after[name] == pytest.approx(before[name], rel=1e-6)


def test_pixel_accuracy_flatters_a_model_that_misses_the_rare_class() -> None:
    truth = np.array([[0, 0, 1, 1, 1, 1, 1, 1, 4, 2]])  # two background pixels, ignored
    missed_rock = np.where(truth == 4, 1, truth)
    assert metrics.pixel_accuracy(truth, missed_rock) == pytest.approx(7 / 8)
    assert metrics.pixel_accuracy(truth, truth) == 1.0
    # soil 6/7, bedrock 1, sand absent (1), Big Rock 0: the rare class costs a quarter of the score
    assert metrics.competition_miou(truth, missed_rock) == pytest.approx((6 / 7 + 1 + 1 + 0) / 4)
    background_everywhere = np.zeros_like(truth)
    assert metrics.pixel_accuracy(truth, background_everywhere) == 0.0
    nothing_scored = np.zeros((2, 3), dtype=int)
    assert metrics.pixel_accuracy(nothing_scored, nothing_scored + 1) == 1.0


def test_the_two_per_image_rules_differ_on_a_class_absent_from_truth_and_prediction() -> None:
    truth = np.array([[[1, 1, 1, 1]]])  # soil only
    half_sand = np.array([[[1, 1, 3, 3]]])
    # the competition's formula on one image: bedrock and Big Rock have an empty union -> 1
    assert metrics.competition_miou(truth, half_sand) == pytest.approx((0.5 + 1 + 0 + 1) / 4)
    # per_image_miou leaves them out: soil 0.5 and sand 0 only
    assert metrics.per_image_miou(truth, half_sand)[0] == pytest.approx(0.25)


def test_scores_from_summed_per_image_counts_equal_the_scores_of_the_labels() -> None:
    rng = np.random.default_rng(5)
    masks = rng.integers(0, NUM_CLASSES, size=(6, 8, 8))
    predicted = rng.integers(0, NUM_CLASSES, size=(6, 8, 8))
    summed = metrics.per_image_confusion(masks, predicted)[1:4].sum(axis=0)
    found = metrics.confusion_scores(summed, 3, background=True)
    assert found == metrics.scores(masks[1:4], predicted[1:4], background=True)
    assert found["images"] == 3
    with pytest.raises(ValueError, match=r"a confusion matrix is \(5, 5\), got shape \(4, 4\)"):
        metrics.confusion_scores(np.ones((4, 4)), 1)
