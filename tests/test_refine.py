"""The refinement net: the combination rule, background scores, the threshold sweep,
the background run."""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import jaccard_score

from marslib import data, metrics, models, training
from marslib.core.classes import BACKGROUND, NUM_CLASSES
from marslib.data import to_model_input
from marslib.evaluation import refine
from marslib.figures import results
from marslib.training import registry, tasks


def as_numpy(tensor) -> np.ndarray:
    return keras.ops.convert_to_numpy(tensor)


# ---------------------------------------------------------------- the combination rule


def test_combine_follows_the_rule_on_hand_made_pixels() -> None:
    probabilities = np.array(
        [
            [
                0.90,
                0.05,
                0.03,
                0.01,
                0.01,
            ],  # the model says background, the net says terrain: best terrain class
            [
                0.10,
                0.10,
                0.10,
                0.60,
                0.10,
            ],  # the model says sand, the net says background: background
            [
                0.20,
                0.10,
                0.50,
                0.10,
                0.10,
            ],  # the net's probability equals the threshold: not background
            [0.00, 0.25, 0.25, 0.20, 0.30],  # the model says Big Rock, the net is unsure: Big Rock
        ],
        dtype=np.float32,
    )
    background = np.array([0.2, 0.8, 0.5, 0.49], dtype=np.float32)
    combined = as_numpy(refine.combine(probabilities, background, 0.5))
    expected = np.array(
        [
            [0, 0.5, 0.3, 0.1, 0.1],
            [1, 0, 0, 0, 0],
            [0, 0.125, 0.625, 0.125, 0.125],
            [0, 0.25, 0.25, 0.2, 0.3],
        ]
    )
    np.testing.assert_allclose(combined, expected, rtol=1e-6)
    np.testing.assert_array_equal(combined.argmax(-1), [1, BACKGROUND, 2, 4])


@pytest.mark.parametrize("threshold", [-0.1, 1.5, True, "0.5"])
def test_combine_refuses_a_bad_threshold(threshold: object) -> None:
    with pytest.raises(ValueError, match="threshold"):
        refine.combine(np.full((1, 5), 0.2), np.zeros(1), threshold)


def tiny_models() -> tuple[keras.Model, keras.Model]:
    keras.utils.set_random_seed(1)
    multi = models.build("unet", base_filters=2, depth=1)
    background = models.build("unet", num_classes=2, base_filters=2, depth=1)
    return multi, background


def test_refined_model_applies_the_rule_to_both_outputs(tmp_path: Path) -> None:
    multi, background = tiny_models()
    images = np.random.default_rng(0).random((3, 64, 128, 1)).astype(np.float32)
    p_multi, p_background = (
        multi.predict(images, verbose=0),
        background.predict(images, verbose=0)[..., 0],
    )
    threshold = float(np.median(p_background))  # so that both branches of the rule occur
    refined = refine.Refined(multi, background, threshold)
    labels = refined.predict(images, verbose=0).argmax(-1)
    expected = np.where(p_background > threshold, BACKGROUND, p_multi[..., 1:].argmax(-1) + 1)
    np.testing.assert_array_equal(labels, expected)
    assert 0 < np.mean(labels == BACKGROUND) < 1
    refined.save(tmp_path / "refined.keras")
    again = keras.saving.load_model(tmp_path / "refined.keras", compile=False)
    assert isinstance(again, refine.Refined) and again.threshold == threshold
    np.testing.assert_array_equal(
        again.predict(images, verbose=0), refined.predict(images, verbose=0)
    )


def test_refined_model_checks_its_parts() -> None:
    multi, background = tiny_models()
    with pytest.raises(ValueError, match="2 classes"):
        refine.Refined(multi, multi)
    with pytest.raises(ValueError, match="5 classes"):
        refine.Refined(background, background)
    with pytest.raises(ValueError, match="same input"):
        refine.Refined(
            multi,
            models.build("unet", input_shape=(32, 64, 1), num_classes=2, base_filters=2, depth=1),
        )


# ---------------------------------------------------------------- scores


def test_background_scores_by_hand_and_against_scikit_learn() -> None:
    masks = np.array([[[0, 0, 0, 1, 2, 3, 4, 4]]])
    predicted = np.array([[[0, 1, 0, 0, 2, 3, 4, 0]]])
    found = metrics.background_scores(masks, predicted)
    assert found["background recall"] == pytest.approx(2 / 3)
    assert found["background precision"] == pytest.approx(2 / 4)
    assert found["terrain called background"] == pytest.approx(2 / 5)
    reference = jaccard_score(
        masks.ravel(), predicted.ravel(), labels=range(NUM_CLASSES), average="macro"
    )
    assert found["5-class mIoU"] == pytest.approx(reference)


def test_binary_scores_by_hand() -> None:
    masks = np.array([[[0, 0, 0, 1, 2]]])
    probability = np.array([[[0.9, 0.6, 0.1, 0.7, 0.2]]])
    found = refine.binary_scores(masks, probability, threshold=0.5)
    assert found == pytest.approx(
        {
            "background recall": 2 / 3,
            "background precision": 2 / 3,
            "background IoU": 2 / 4,
            "images": 1,
        }
    )
    with pytest.raises(ValueError, match="shape"):
        refine.binary_scores(masks, probability[..., :3])


def test_threshold_sweep_trades_background_recall_for_terrain() -> None:
    rng = np.random.default_rng(0)
    masks = rng.integers(0, NUM_CLASSES, size=(4, 8, 16))
    probabilities = rng.dirichlet(np.ones(NUM_CLASSES), size=masks.shape)
    background = np.clip((masks == 0) * 0.5 + rng.random(masks.shape) * 0.5, 0, 1)
    thresholds = [0.0, 0.25, 0.5, 0.75, 1.0]
    sweep = refine.threshold_sweep(masks, probabilities, background, thresholds)
    assert list(sweep.index) == thresholds
    assert np.all(np.diff(sweep["background recall"]) <= 0)
    assert np.all(np.diff(sweep["terrain called background"]) <= 0)
    assert sweep.loc[1.0, "background recall"] == 0  # nothing is above 1
    labels = np.where(background > 0.5, 0, probabilities[..., 1:].argmax(-1) + 1)
    assert sweep.loc[0.5, "mIoU"] == pytest.approx(metrics.competition_miou(masks, labels))
    assert sweep.loc[0.5, "5-class mIoU"] == pytest.approx(
        metrics.background_scores(masks, labels)["5-class mIoU"]
    )
    with pytest.raises(ValueError, match="probabilities"):
        refine.threshold_sweep(masks, probabilities[..., :4], background, thresholds)


def test_sweep_figure_draws_each_score_and_the_model_alone() -> None:
    sweep = pd.DataFrame(
        {
            "mIoU": [0.2, 0.3],
            "5-class mIoU": [0.4, 0.35],
            "background recall": [0.9, 0.5],
            "terrain called background": [0.2, 0.1],
        },
        index=pd.Index([0.25, 0.75], name="threshold"),
    )
    alone = {
        "mIoU": 0.31,
        "5-class mIoU": 0.3,
        "background recall": 0.1,
        "terrain called background": 0.01,
    }
    figure = results.sweep_figure(sweep, alone)
    left, right = figure.axes
    curves = {line.get_label(): line for line in left.lines + right.lines}
    np.testing.assert_allclose(curves["background recall"].get_ydata(), [0.9, 0.5])
    np.testing.assert_allclose(curves["5-class mIoU"].get_xdata(), [0.25, 0.75])
    np.testing.assert_allclose(curves["mIoU, model alone"].get_ydata(), [0.31, 0.31])
    assert len(curves) == 8
    with pytest.raises(ValueError, match="missing"):
        results.sweep_figure(sweep.drop(columns="mIoU"), alone)


# ---------------------------------------------------------------- the background net as a run


def test_background_targets_mark_background_zero() -> None:
    masks = np.array([[[0, 1, 2, 3, 4]]], dtype=np.uint8)
    np.testing.assert_array_equal(tasks.background_targets(masks), [[[0, 1, 1, 1, 1]]])
    with pytest.raises(ValueError, match="labels 0..4"):
        tasks.background_targets(np.array([[[5]]]))
    with pytest.raises(ValueError, match="integer class labels"):
        tasks.background_targets(np.array([[[0.5]]]))


TINY = {
    "epochs": 2,
    "batch_size": 32,
    "patience": 2,
    "learning_rate": 0.003,
    "model_options": {"base_filters": 2, "depth": 1},
}


def test_background_net_is_a_run_of_the_background_task(
    tiny_data: data.MarsData, module_folders: Path
) -> None:
    experiment = training.Experiment.from_dict(
        {**registry.get("background_net", "quick").to_dict(), **TINY}
    )
    first = training.run(experiment, tiny_data, module_folders / "a", verbose=0)
    assert first.directory == training.run_directory(experiment, tiny_data, module_folders / "a")
    assert training.records(module_folders / "a") == []  # never mistaken for a five-class record
    assert [r.directory for r in training.records(module_folders / "a", task="background")] == [
        first.directory
    ]
    assert list(first.history.columns) == [
        "epoch",
        "background_iou",
        "loss",
        "val_background_iou",
        "val_loss",
        "learning_rate",
        "seconds",
    ]
    assert first.metrics["epochs_run"] == 2 and 0 <= first.metrics["val"]["background recall"] <= 1
    assert first.val_miou is None and first.metrics["val"]["images"] > 0
    net = first.load_model()
    assert net.output_shape == (None, 64, 128, 2)

    # its validation scores are the binary scores of the saved net's answer (argmax of two classes)
    _, val = training.split_indices(experiment, tiny_data)
    probability = net.predict(to_model_input(tiny_data.train_images[val]), verbose=0)
    called = probability.argmax(-1) == 0
    expected = tasks.binary_scores(tiny_data.train_masks[val], called)
    assert first.metrics["val"] == pytest.approx(expected)

    done = (first.directory / "DONE").stat().st_mtime_ns
    again = training.run(experiment, tiny_data, module_folders / "a", verbose=0)
    assert (again.directory / "DONE").stat().st_mtime_ns == done  # loaded, not trained again
    twin = training.run(experiment, tiny_data, module_folders / "b", verbose=0)
    for mine, theirs in zip(net.get_weights(), twin.load_model().get_weights()):
        np.testing.assert_array_equal(mine, theirs)
