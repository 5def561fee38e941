"""Receptive fields, gate weights, sub-models and comparison galleries,
checked on models whose answer is known."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from marslib import models  # noqa: E402
from marslib.analysis import inspection
from marslib.core.classes import colorize  # noqa: E402
from marslib.data import to_model_input  # noqa: E402
from marslib.figures import attention, results


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def gated_model() -> keras.Model:
    keras.utils.set_random_seed(1)
    return models.build("attention_psp", size="quick")


def _convs(count: int, pooled_branch: bool = False) -> keras.Model:
    keras.utils.set_random_seed(0)
    inputs = keras.Input((8, 16, 1))
    x = inputs
    for _ in range(count):
        x = keras.layers.Conv2D(4, 3, padding="same", activation="tanh")(x)
    if pooled_branch:  # a global average added everywhere: every pixel sees the whole image
        x = x + keras.layers.GlobalAveragePooling2D(keepdims=True)(x)
    return keras.Model(inputs, keras.layers.Softmax()(keras.layers.Conv2D(5, 1)(x)))


def _images(count: int = 2, shape: tuple[int, int] = (8, 16)) -> np.ndarray:
    return np.random.default_rng(0).integers(0, 256, (count, *shape), dtype=np.uint8)


@pytest.mark.parametrize(("convs", "side"), [(1, 3), (2, 5), (3, 7)])
def test_receptive_field_of_stacked_3x3_convolutions_is_a_square_of_known_side(
    convs: int, side: int
) -> None:
    field = inspection.receptive_field(_convs(convs), row=4, column=8, image=_images(1)[0])
    rows, columns = np.nonzero(field > 1e-9)
    half = side // 2
    assert (rows.min(), rows.max(), columns.min(), columns.max()) == (
        4 - half,
        4 + half,
        8 - half,
        8 + half,
    )
    assert field.shape == (8, 16) and field.sum() == pytest.approx(1.0)


def test_global_pooling_makes_the_receptive_field_the_whole_image() -> None:
    field = inspection.receptive_field(
        _convs(1, pooled_branch=True), row=0, column=0, image=_images(1)[0]
    )
    assert (field > 0).all()
    with pytest.raises(ValueError, match="outside"):
        inspection.receptive_field(_convs(1), row=8, column=0)


def test_default_image_gives_an_untrained_unet_a_field() -> None:
    keras.utils.set_random_seed(3)
    field = inspection.receptive_field(
        models.build("unet", depth=2, base_filters=4), row=32, column=64
    )
    assert field.sum() == pytest.approx(1.0) and field[32, 64] > 0


def test_gate_coefficients_are_what_the_gate_multiplies_its_skip_by(
    gated_model: keras.Model,
) -> None:
    model = gated_model
    images = _images(2, (64, 128))
    alpha = inspection.gate_coefficients(model, images, "dec1_gate")
    assert alpha.shape == (2, 64, 128) and alpha.min() >= 0 and alpha.max() <= 1
    gate = model.get_layer("dec1_gate")
    skip, gated = keras.Model(model.input, [gate.input[0], gate.output]).predict(
        to_model_input(images), verbose=0
    )
    np.testing.assert_allclose(gated, skip * alpha[..., None], rtol=1e-4, atol=1e-5)
    with pytest.raises(ValueError, match="no attention gate"):
        inspection.gate_coefficients(model, images, "enc1_b_relu")


def test_layer_model_exposes_the_first_unet_of_a_wnet() -> None:
    model = models.build("wnet", size="quick")
    coarse = inspection.layer_model(model, "coarse")
    probabilities = coarse.predict(to_model_input(_images(2, (64, 128))), verbose=0)
    assert probabilities.shape == (2, 64, 128, 5)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, rtol=1e-5)
    with pytest.raises(ValueError, match="no layer"):
        inspection.layer_model(model, "nothing")


def test_comparison_gallery_shows_truth_and_each_model_per_row() -> None:
    images = _images(3, (4, 8))
    masks = np.zeros((3, 4, 8), dtype=np.uint8)
    masks[:, :, 4:] = 1
    perfect, wrong = masks.copy(), np.full_like(masks, 2)
    figure = results.comparison_gallery(images, masks, {"A": perfect, "B": wrong}, indices=[2, 0])
    axes = np.array(figure.axes).reshape(2, 4)
    assert [ax.get_title() for ax in axes[0]] == [
        "image 2",
        "truth",
        "A (mIoU 1.00)",
        "B (mIoU 0.00)",
    ]
    np.testing.assert_allclose(axes[1, 3].get_images()[0].get_array(), colorize(wrong[0]))
    with pytest.raises(ValueError, match="shape"):
        results.comparison_gallery(images, masks, {"A": perfect[:1]}, indices=[0])


def test_showcase_indices_picks_mixed_scenes_then_big_rock() -> None:
    masks = np.ones((6, 2, 4), dtype=np.uint8)
    masks[1, 0, :2], masks[1, 1, :] = 2, 3  # soil, bedrock, sand: mixed
    masks[3] = masks[1]
    masks[3, 0, 3] = 4  # mixed and Big Rock
    masks[4, 0, 0] = 4  # Big Rock only
    masks[5, :, :2] = 0  # background and soil: two classes but only one terrain class
    assert inspection.showcase_indices(masks) == [1, 3, 4]
    assert inspection.showcase_indices(masks, mixed=1, big_rock=2) == [1, 3, 4]
    assert inspection.showcase_indices(masks[[0, 5]]) == []


def test_attention_gallery_shows_every_gate_coarsest_first(gated_model: keras.Model) -> None:
    model = gated_model
    images = _images(3, (64, 128))
    masks = np.ones((3, 64, 128), dtype=np.uint8)
    figure = attention.attention_gallery(model, images, masks, indices=[2, 0])
    panels = [ax for ax in figure.axes if ax.get_title()]
    titles = [ax.get_title() for ax in panels]
    assert len(panels) == 2 * 5 and titles[0] == "image 2" and titles[1] == "truth"
    assert [t.split(":")[0] for t in titles[2:5]] == ["dec3_gate", "dec2_gate", "dec1_gate"]
    expected = inspection.gate_coefficients(model, images[[0]], "dec1_gate")[0]
    np.testing.assert_allclose(panels[9].get_images()[0].get_array(), expected, rtol=1e-5)
    with pytest.raises(ValueError, match="attention gates"):
        attention.attention_gallery(
            models.build("pspnet", size="quick"), images, masks, indices=[0]
        )
