"""The label-noise audit: scores by hand, per-class thresholds,
the ranking of planted errors, precision at k."""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd
import pytest

from marslib.analysis import label_noise
from marslib.core.classes import BEDROCK, BIG_ROCK, NUM_CLASSES, SAND, SOIL

# Grey level of each class in the planted example; an oracle model reads the class from it.
LEVELS = np.array([0, 60, 110, 160, 210], dtype=np.uint8)


def test_terrain_probabilities_drop_background_and_renormalise() -> None:
    found = label_noise.terrain_probabilities(np.array([[0.5, 0.25, 0.125, 0.125, 0.0]]))
    np.testing.assert_allclose(found, [[0.5, 0.25, 0.25, 0.0]])
    with pytest.raises(ValueError, match="5 classes"):
        label_noise.terrain_probabilities(np.ones((2, 4)))


def hand_example() -> tuple[np.ndarray, np.ndarray]:
    """One image of 1 x 4 pixels: background, soil, soil, sand,
    with probabilities (terrain parts sum to 1)."""
    masks = np.array([[[0, SOIL, SOIL, SAND]]])
    probabilities = np.array(
        [
            [
                [
                    [0.6, 0.1, 0.1, 0.1, 0.1],  # background: left out
                    [0.0, 0.8, 0.1, 0.1, 0.0],  # soil, right
                    [0.0, 0.2, 0.7, 0.1, 0.0],  # soil, but bedrock is likely
                    [0.0, 0.3, 0.0, 0.6, 0.1],  # sand, right
                ]
            ]
        ]
    )
    return probabilities, masks


def test_confidence_sums_by_hand() -> None:
    sums, counts = label_noise.confidence_sums(*hand_example())
    np.testing.assert_allclose(sums, [0.8 + 0.2, 0.0, 0.6, 0.0])
    np.testing.assert_array_equal(counts, [2, 0, 1, 0])


def test_image_scores_by_hand() -> None:
    probabilities, masks = hand_example()
    row = label_noise.image_scores(
        probabilities, masks, thresholds=np.array([0.5, 0.6, 0.5, 0.5])
    ).iloc[0]
    # Confident labels: pixel 1 soil (0.8 >= 0.5), pixel 2 bedrock (0.7 >= 0.6), pixel 3 sand:
    # one of 3 contradicted.
    assert row["given"] == "Soil, Sand" and row["terrain pixels"] == 3
    assert row["contradicted"] == pytest.approx(1 / 3)
    assert row["disagreement"] == pytest.approx(((1 - 0.8) + (1 - 0.2) + (1 - 0.6)) / 3)
    assert row["suggested"] == "Bedrock"
    strict = label_noise.image_scores(
        probabilities, masks, thresholds=np.array([0.9, 0.9, 0.9, 0.9])
    ).iloc[0]
    assert (
        strict["contradicted"] == 0 and strict["suggested"] == ""
    )  # nothing is confident: nothing contradicted
    with pytest.raises(ValueError, match="4 finite"):
        label_noise.image_scores(probabilities, masks, thresholds=np.ones(5))


def oracle(sharpness: float = 2000.0) -> keras.Model:
    """Softmax of -sharpness * (x - level_k)^2: the class whose grey level is nearest,
    as a Keras model."""
    levels = LEVELS / 255.0
    inputs = keras.Input((64, 128, 1))
    features = keras.layers.Concatenate()([inputs, keras.layers.Multiply()([inputs, inputs])])
    layer = keras.layers.Conv2D(NUM_CLASSES, 1)
    logits = layer(features)
    layer.set_weights(
        [
            np.array([[[2 * sharpness * levels, -sharpness * np.ones(NUM_CLASSES)]]]),
            -sharpness * levels**2,
        ]
    )
    return keras.Model(inputs, keras.layers.Softmax()(logits))


def planted() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """12 noisy images of 8x8 blocks (all five classes); images 2 and 7 labelled all wrong,
    image 5 an eighth wrong."""
    rng = np.random.default_rng(0)
    truth = np.kron(
        rng.integers(0, NUM_CLASSES, size=(12, 8, 16)), np.ones((8, 8), dtype=np.int64)
    ).astype(np.uint8)
    noise = rng.normal(0, 8, size=truth.shape)
    images = np.clip(LEVELS[truth] + noise, 0, 255).astype(np.uint8)
    given = truth.copy()
    for i, wrong in ((2, SAND), (7, BEDROCK)):
        given[i][truth[i] > 0] = wrong
    given[5][:16, :32] = np.where(truth[5][:16, :32] == BIG_ROCK, SOIL, BIG_ROCK)
    return images, given, truth


def test_audit_ranks_the_planted_errors_first() -> None:
    images, given, truth = planted()
    found = label_noise.audit(oracle(), images, given)
    ranking = found.ranking("contradicted")
    assert set(ranking[:2]) == {2, 7} and ranking[2] == 5
    assert set(found.ranking("disagreement")[:3]) == {2, 5, 7}
    assert found.table.loc[[2, 7], "contradicted"].min() > 0.5
    assert found.table.loc[0, "contradicted"] < 0.05
    assert found.table.loc[7, "suggested"] != "Bedrock"
    np.testing.assert_array_equal(
        label_noise.precision_at_k(ranking, [2, 7], [1, 2, 3]).to_numpy(), [1, 1, 2 / 3]
    )


def test_audit_of_some_images_keeps_their_indices_and_thresholds() -> None:
    images, given, _ = planted()
    chosen = np.array([7, 0, 3, 5])
    found = label_noise.audit(oracle(), images, given, indices=chosen)
    assert list(found.table.index) == [7, 0, 3, 5]
    probabilities = oracle().predict(images[chosen] / np.float32(255), verbose=0)
    sums, counts = label_noise.confidence_sums(probabilities, given[chosen])
    np.testing.assert_allclose(found.thresholds, sums / counts, rtol=1e-5)
    with pytest.raises(ValueError, match="indices"):
        label_noise.audit(oracle(), images, given, indices=np.array([], dtype=int))


def test_ranking_puts_images_without_terrain_last() -> None:
    table = pd.DataFrame(
        {"contradicted": [0.1, np.nan, 0.5, 0.1], "disagreement": [0.2, np.nan, 0.4, 0.3]},
        index=[10, 11, 12, 13],
    )
    found = label_noise.Audit(table, np.full(4, 0.5))
    np.testing.assert_array_equal(found.ranking(), [12, 13, 10, 11])
    with pytest.raises(ValueError, match="by must be"):
        found.ranking("loudness")


def test_precision_at_k_by_hand() -> None:
    ranking = [4, 9, 1, 7, 3]
    np.testing.assert_allclose(
        label_noise.precision_at_k(ranking, [9, 7, 100], [1, 2, 4, 5]).to_numpy(),
        [0, 0.5, 0.5, 0.4],
    )
    for bad in (0, 6, 2.0):
        with pytest.raises(ValueError, match="every k"):
            label_noise.precision_at_k(ranking, [9], [bad])
