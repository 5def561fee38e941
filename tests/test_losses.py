"""Losses against hand-computed values and Keras' own losses, in float32, saved and reloaded."""

from __future__ import annotations

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from marslib import losses
from marslib.core.classes import NUM_CLASSES

NO_BACKGROUND = (0.0, 1.0, 1.0, 1.0, 1.0)
WEIGHTS = (0.0, 0.6, 0.8, 1.1, 10.0)


def random_batch(seed: int, shape: tuple[int, ...] = (3, 8, 10)) -> tuple[np.ndarray, np.ndarray]:
    """Sparse labels (B, H, W) int32 and softmax probabilities (B, H, W, 5) float32."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, NUM_CLASSES, size=shape).astype(np.int32)
    logits = rng.normal(scale=2.0, size=shape + (NUM_CLASSES,))
    probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
    return labels, probs.astype(np.float32)


def one_hot(labels: np.ndarray) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[labels]


def probs_with_true_probability(labels: np.ndarray, p_true: np.ndarray) -> np.ndarray:
    """Probabilities giving each pixel's true class p_true and sharing the rest equally."""
    probs = np.repeat(((1 - p_true) / (NUM_CLASSES - 1))[..., None], NUM_CLASSES, axis=-1)
    np.put_along_axis(probs, labels[..., None], p_true[..., None], axis=-1)
    return probs.astype(np.float32)


# Three pixels of classes 0, 1 and 4 whose true class gets probability 0.9, 0.5 and 0.25.
TINY_LABELS = np.array([[[0, 1, 4]]], dtype=np.int32)
TINY_PROBS = probs_with_true_probability(TINY_LABELS, np.array([[[0.9, 0.5, 0.25]]]))
LN2 = math.log(2)


def value(loss: keras.losses.Loss, labels: np.ndarray, probs: np.ndarray) -> float:
    return float(loss(labels, probs))


# ---- hand-computed values --------------------------------------------------------------------


def test_cross_entropy_by_hand() -> None:
    expected = (-math.log(0.9) + LN2 + 2 * LN2) / 3
    assert value(losses.get("scce"), TINY_LABELS, TINY_PROBS) == pytest.approx(expected, rel=1e-5)


def test_weighted_cross_entropy_divides_by_the_sum_of_pixel_weights() -> None:
    # weights 0 (background), 1 (soil), 2 (Big Rock): (0 + 1 * ln 2 + 2 * ln 4) / (0 + 1 + 2)
    loss = losses.get("weighted_scce", class_weights=(0, 1, 1, 1, 2))
    assert value(loss, TINY_LABELS, TINY_PROBS) == pytest.approx(5 * LN2 / 3, rel=1e-5)


def test_focal_loss_by_hand() -> None:
    # (1 - p)^2 * -ln p for p = 0.9, 0.5, 0.25
    terms = [0.01 * -math.log(0.9), 0.25 * LN2, 0.5625 * 2 * LN2]
    assert value(losses.get("focal"), TINY_LABELS, TINY_PROBS) == pytest.approx(
        sum(terms) / 3, rel=1e-5
    )
    weighted = losses.get("weighted_focal", class_weights=(0, 1, 1, 1, 2))
    assert value(weighted, TINY_LABELS, TINY_PROBS) == pytest.approx(
        (terms[1] + 2 * terms[2]) / 3, rel=1e-5
    )


def test_dice_by_hand() -> None:
    # Truth soil, soil, bedrock, bedrock; prediction (one-hot) soil, bedrock, bedrock, bedrock.
    labels = np.array([[[1, 1, 2, 2]]])
    probs = one_hot(np.array([[[1, 2, 2, 2]]]))
    soil, bedrock = 2 * 1 / (2 + 1), 2 * 2 / (2 + 3)
    # smooth 0: the three absent classes score 0.
    assert value(losses.SoftDice(smooth=0), labels, probs) == pytest.approx(
        1 - (soil + bedrock) / 5, rel=1e-5
    )
    # smooth 1: (2 * overlap + 1) / (sizes + 1); the absent classes score 1.
    smooth = [1.0, 3 / 4, 5 / 6, 1.0, 1.0]
    assert value(losses.SoftDice(smooth=1), labels, probs) == pytest.approx(
        1 - sum(smooth) / 5, rel=1e-5
    )
    # weights leave classes out of the mean (0) or count them more (2).
    weighted = losses.SoftDice(smooth=0, class_weights=(0, 1, 2, 0, 0))
    assert value(weighted, labels, probs) == pytest.approx(1 - (soil + 2 * bedrock) / 3, rel=1e-5)


def test_dice_without_background_drops_true_background_pixels() -> None:
    # The first pixel is background predicted as soil:
    # without background it is no false positive of soil.
    labels = np.array([[[0, 1, 1]]])
    probs = one_hot(np.array([[[1, 1, 1]]]))
    dice = losses.SoftDice(smooth=0, class_weights=(0, 1, 0, 0, 0))
    assert value(dice, labels, probs) == pytest.approx(0.0, abs=1e-6)
    assert value(losses.SoftDice(smooth=0, class_weights=(1, 1, 0, 0, 0)), labels, probs) > 0.5


def test_perfect_prediction_costs_nothing() -> None:
    labels, _ = random_batch(0)
    for name in losses.names():
        loss = losses.get(name, class_weights=WEIGHTS if name.startswith("weighted_") else None)
        assert value(loss, labels, one_hot(labels)) == pytest.approx(0.0, abs=1e-5), name


# ---- Keras' own losses as references ---------------------------------------------------------


def test_cross_entropy_matches_keras() -> None:
    labels, probs = random_batch(1)
    reference = keras.losses.SparseCategoricalCrossentropy()(labels, probs)
    assert value(losses.get("scce"), labels, probs) == pytest.approx(float(reference), rel=1e-5)


def test_background_weight_zero_matches_keras_ignore_class() -> None:
    labels, probs = random_batch(2)
    reference = keras.losses.SparseCategoricalCrossentropy(ignore_class=0)(labels, probs)
    ours = losses.get("weighted_scce", class_weights=NO_BACKGROUND)
    assert value(ours, labels, probs) == pytest.approx(float(reference), rel=1e-5)


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0, 5.0])
def test_focal_matches_keras_categorical_focal_on_one_hot_labels(gamma: float) -> None:
    labels, probs = random_batch(3)
    reference = keras.losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=gamma)(
        one_hot(labels), probs
    )
    assert value(losses.get("focal", gamma=gamma), labels, probs) == pytest.approx(
        float(reference), rel=1e-5
    )


def test_weighted_focal_is_the_weighted_mean_of_keras_pixel_losses() -> None:
    labels, probs = random_batch(4)
    per_pixel = keras.losses.CategoricalFocalCrossentropy(alpha=1.0, gamma=2.0, reduction=None)(
        one_hot(labels), probs
    )
    weights = np.asarray(WEIGHTS)[labels]
    expected = (np.asarray(per_pixel) * weights).sum() / weights.sum()
    ours = losses.get("weighted_focal", class_weights=WEIGHTS)
    assert value(ours, labels, probs) == pytest.approx(float(expected), rel=1e-5)


def test_dice_matches_keras_dice_per_class() -> None:
    labels, probs = random_batch(5)
    per_class = keras.losses.Dice(axis=(0, 1, 2), reduction=None)(one_hot(labels), probs)
    assert value(losses.SoftDice(smooth=0), labels, probs) == pytest.approx(
        float(np.mean(per_class)), rel=1e-5
    )
    # Without background: Keras' Dice on the terrain pixels only, averaged over classes 1..4.
    terrain = labels != 0
    kept = keras.losses.Dice(axis=(0, 1, 2), reduction=None)(
        one_hot(labels) * terrain[..., None], probs * terrain[..., None]
    )
    ours = losses.SoftDice(smooth=0, class_weights=NO_BACKGROUND)
    assert value(ours, labels, probs) == pytest.approx(
        float(np.mean(np.asarray(kept)[1:])), rel=1e-5
    )


def test_keras_dice_pools_classes_so_a_missed_rare_class_hardly_shows() -> None:
    # 18 soil pixels and 2 Big Rock pixels; the model says soil (0.9) everywhere, Big Rock 0.025.
    labels = np.array([[[1] * 18 + [4] * 2]], dtype=np.int32)
    probs = np.full((1, 1, 20, NUM_CLASSES), 0.025, dtype=np.float32)
    probs[..., 1] = 0.9
    pooled = float(keras.losses.Dice()(one_hot(labels), probs))
    assert pooled == pytest.approx(
        1 - (18 * 0.9 + 2 * 0.025) / 20, rel=1e-5
    )  # 1 - mean p(true class)
    soil, big_rock = 2 * 18 * 0.9 / (18 + 18), 2 * 2 * 0.025 / (2 + 20 * 0.025)
    ours = value(losses.SoftDice(smooth=0, class_weights=(0, 1, 0, 0, 1)), labels, probs)
    assert ours == pytest.approx(1 - (soil + big_rock) / 2, rel=1e-5)
    assert ours > 2 * pooled


# ---- properties ------------------------------------------------------------------------------


def test_focal_with_gamma_zero_is_cross_entropy() -> None:
    labels, probs = random_batch(7)
    focal = losses.get("weighted_focal", class_weights=WEIGHTS, gamma=0.0)
    scce = losses.get("weighted_scce", class_weights=WEIGHTS)
    assert value(focal, labels, probs) == pytest.approx(value(scce, labels, probs), rel=1e-6)


def test_the_scale_of_the_weights_does_not_matter() -> None:
    labels, probs = random_batch(8)
    for name in ("weighted_scce", "weighted_focal", "weighted_dice"):
        small = value(losses.get(name, class_weights=WEIGHTS), labels, probs)
        large = value(losses.get(name, class_weights=np.asarray(WEIGHTS) * 7.0), labels, probs)
        assert small == pytest.approx(large, rel=1e-5), name


def test_background_weight_zero_gives_background_pixels_no_gradient() -> None:
    labels, probs = random_batch(9)
    probs = tf.Variable(probs)
    for name in ("weighted_scce", "weighted_focal", "weighted_dice"):
        with tf.GradientTape() as tape:
            loss = losses.get(name, class_weights=NO_BACKGROUND)(labels, probs)
        gradient = tape.gradient(loss, probs).numpy()
        assert np.all(gradient[labels == 0] == 0), name
        assert np.any(gradient[labels != 0] != 0), name


def test_all_background_batch_without_background_costs_nothing() -> None:
    labels = np.zeros((2, 4, 4), dtype=np.int32)
    _, probs = random_batch(10, shape=(2, 4, 4))
    for name in ("weighted_scce", "weighted_focal", "weighted_dice"):
        assert value(losses.get(name, class_weights=NO_BACKGROUND), labels, probs) == pytest.approx(
            0.0, abs=1e-6
        ), name


def test_dice_scores_an_absent_class_by_how_little_of_it_is_predicted() -> None:
    # No Big Rock in the truth: with smooth 1 its Dice is 1 / (predicted Big Rock mass + 1).
    labels = np.ones((1, 2, 2), dtype=np.int32)
    probs = np.zeros((1, 2, 2, NUM_CLASSES), dtype=np.float32)
    probs[..., 1], probs[..., 4] = 0.75, 0.25  # a total Big Rock mass of 1.0 over the four pixels
    # Soil: (2 * 3 + 1) / (4 + 3 + 1); background, bedrock, sand: 1 / 1; Big Rock: 1 / (1 + 1).
    expected = 1 - (1 + 7 / 8 + 1 + 1 + 1 / 2) / 5
    assert value(losses.SoftDice(smooth=1), labels, probs) == pytest.approx(expected, rel=1e-5)
    # A class weight of 0 drops that class's true pixels: with soil left out,
    # no pixel is left at all.
    only_big_rock = losses.SoftDice(smooth=1, class_weights=(0, 0, 0, 0, 1))
    assert value(only_big_rock, labels, probs) == pytest.approx(0.0, abs=1e-6)


def test_inline_weights_of_a_spec_weigh_its_terms() -> None:
    labels, probs = random_batch(11)
    combined = value(
        losses.get("0.3*dice+0.7*weighted_focal", class_weights=WEIGHTS, gamma=1.0), labels, probs
    )
    dice = value(losses.get("dice"), labels, probs)
    focal = value(losses.get("weighted_focal", class_weights=WEIGHTS, gamma=1.0), labels, probs)
    assert combined == pytest.approx(0.3 * dice + 0.7 * focal, rel=1e-5)


def test_weighted_focal_plus_scce_weights_only_the_focal_term() -> None:
    labels, probs = random_batch(12)
    loss = losses.get("weighted_focal+scce", class_weights=WEIGHTS)
    expected = value(losses.get("weighted_focal", class_weights=WEIGHTS), labels, probs) + value(
        losses.get("scce"), labels, probs
    )
    assert isinstance(loss, losses.WeightedSum)
    assert value(loss, labels, probs) == pytest.approx(expected, rel=1e-5)


@pytest.fixture
def mixed_precision():
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy("mixed_float16")
    yield
    keras.config.set_dtype_policy(previous)


@pytest.mark.parametrize(
    "spec", ["scce", "weighted_scce", "focal", "weighted_focal", "dice", "weighted_dice+focal"]
)
def test_float16_predictions_give_a_float32_loss(mixed_precision, spec: str) -> None:
    labels, probs = random_batch(13)
    loss = losses.get(spec, class_weights=WEIGHTS if "weighted" in spec else None)
    half = loss(labels, tf.constant(probs, dtype=tf.float16))
    assert half.dtype == tf.float32
    keras.config.set_dtype_policy("float32")
    full = loss(labels, probs)
    assert float(half) == pytest.approx(float(full), rel=1e-2)


# ---- building by name, bad input ---------------------------------------------------------------


def test_names_are_the_six_terms() -> None:
    assert sorted(losses.names()) == sorted(
        ["scce", "weighted_scce", "focal", "weighted_focal", "dice", "weighted_dice"]
    )


@pytest.mark.parametrize(
    ("spec", "kwargs", "message"),
    [
        ("crossentropy", {}, "known losses"),
        ("", {}, "non-empty"),
        ("dice+", {}, "unknown loss ''"),
        ("x*dice", {}, "not a number"),
        ("-1*dice", {}, "positive"),
        ("weighted_scce", {}, "need class_weights"),
        ("scce", {"class_weights": WEIGHTS}, "no 'weighted_' term"),
        ("weighted_scce", {"class_weights": (1, 1, 1, 1)}, "5 numbers"),
        ("weighted_scce", {"class_weights": (1, 1, 1, 1, float("nan"))}, "finite"),
        ("weighted_scce", {"class_weights": (1, -1, 1, 1, 1)}, "non-negative"),
        ("weighted_scce", {"class_weights": (0, 0, 0, 0, 0)}, "all zero"),
        ("weighted_scce", {"class_weights": "balanced"}, "5 numbers"),
        ("focal", {"gamma": -1.0}, "gamma"),
        ("dice", {"smooth": float("inf")}, "smooth"),
        ("scce", {"gamma": 2.0}, "applies to no term"),
        ("focal", {"alpha": 0.25}, "known options"),
    ],
)
def test_bad_specs_and_options_are_refused(spec: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        losses.get(spec, **kwargs)


def test_unknown_name_lists_the_known_ones() -> None:
    with pytest.raises(ValueError) as error:
        losses.get("tversky")
    assert all(name in str(error.value) for name in losses.names())


@pytest.mark.parametrize(
    ("true_shape", "pred_shape"),
    [((2, 4, 4, 5), (2, 4, 4, 5)), ((2, 4, 4), (2, 4, 4, 3)), ((2, 4, 5), (2, 4, 4, 5))],
)
def test_wrong_shapes_are_refused(true_shape: tuple, pred_shape: tuple) -> None:
    for name in ("scce", "focal", "dice", "dice+focal"):
        with pytest.raises(ValueError, match="shape"):
            losses.get(name)(
                np.zeros(true_shape, dtype=np.int32), np.zeros(pred_shape, dtype=np.float32)
            )


def test_sample_weight_is_refused() -> None:
    labels, probs = random_batch(14)
    for name in ("scce", "dice+focal"):
        with pytest.raises(ValueError, match="class_weights"):
            losses.get(name)(labels, probs, sample_weight=np.ones(labels.shape))


# ---- serialization ---------------------------------------------------------------------------

SPECS = [
    "scce",
    "weighted_scce",
    "weighted_focal",
    "weighted_dice",
    "weighted_focal+scce",
    "0.5*dice+0.5*focal",
]


def build(spec: str) -> keras.losses.Loss:
    return losses.get(spec, class_weights=WEIGHTS if "weighted" in spec else None)


@pytest.mark.parametrize("spec", SPECS)
def test_config_round_trip_gives_the_same_loss(spec: str) -> None:
    labels, probs = random_batch(15)
    loss = build(spec)
    rebuilt = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(loss))
    assert type(rebuilt) is type(loss) and rebuilt.get_config() == loss.get_config()
    assert value(rebuilt, labels, probs) == pytest.approx(value(loss, labels, probs), rel=1e-6)


@pytest.mark.parametrize("spec", ["weighted_scce", "weighted_focal+scce", "0.5*dice+0.5*focal"])
def test_a_saved_model_reloads_with_its_loss(tmp_path, spec: str) -> None:
    labels, _ = random_batch(16, shape=(4, 8, 10))
    images = np.random.default_rng(16).random((4, 8, 10, 1)).astype(np.float32)
    inputs = keras.Input((8, 10, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(NUM_CLASSES, 1, activation="softmax")(inputs))
    model.compile(optimizer="adam", loss=build(spec))
    model.fit(images, labels, epochs=1, verbose=0)
    path = tmp_path / "model.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert reloaded.loss.get_config() == model.loss.get_config()
    assert reloaded.evaluate(images, labels, verbose=0) == pytest.approx(
        model.evaluate(images, labels, verbose=0), rel=1e-5
    )


def test_losses_train_under_xla(without_op_determinism: None) -> None:
    labels, _ = random_batch(17, shape=(4, 8, 10))
    images = np.random.default_rng(17).random((4, 8, 10, 1)).astype(np.float32)
    inputs = keras.Input((8, 10, 1))
    model = keras.Model(inputs, keras.layers.Conv2D(NUM_CLASSES, 1, activation="softmax")(inputs))
    model.compile(
        optimizer="adam",
        loss=losses.get("weighted_dice+weighted_focal+scce", class_weights=WEIGHTS),
        jit_compile=True,
    )
    history = model.fit(images, labels, epochs=2, batch_size=2, verbose=0).history
    assert model.jit_compile  # compiled by XLA, not silently without it
    assert np.all(np.isfinite(history["loss"]))


def test_terms_of_a_spec_with_their_weights() -> None:
    assert losses.terms(" Weighted_Focal + 0.5*dice ") == [(1.0, "weighted_focal"), (0.5, "dice")]
    with pytest.raises(ValueError, match="unknown loss 'jaccard'"):
        losses.terms("scce+jaccard")
    with pytest.raises(ValueError, match="non-empty string"):
        losses.terms("  ")


@pytest.mark.parametrize(
    "spec, label",
    [
        ("scce", "SCCE"),
        ("weighted_scce", "Weighted SCCE"),
        ("weighted_focal+scce", "W. Focal+SCCE"),
        ("0.5*dice+0.5*focal", "0.5*Dice+0.5*Focal"),
    ],
)
def test_loss_labels(spec: str, label: str) -> None:
    assert losses.label(spec) == label


def test_loss_label_refuses_an_unknown_term() -> None:
    with pytest.raises(ValueError, match="unknown loss 'lovasz'"):
        losses.label("scce+lovasz")
