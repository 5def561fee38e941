"""Data figures: overlays, galleries, grey-level histograms, example picking (Agg backend)."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from marslib.core.classes import PALETTE, colorize  # noqa: E402
from marslib.figures import plots  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def _set(n: int = 5) -> tuple[np.ndarray, np.ndarray]:
    images = (np.arange(n * 4 * 8) % 256).reshape(n, 4, 8).astype(np.uint8)
    masks = np.zeros((n, 4, 8), dtype=np.uint8)
    masks[:, :, 4:] = np.arange(n)[:, None, None] % 5
    masks[:, 2:, :4] = 1
    return images, masks


def test_overlay_blends_colour_and_leaves_background_grey() -> None:
    image = np.array([[0, 255], [100, 200]], dtype=np.uint8)
    mask = np.array([[0, 1], [2, 4]], dtype=np.uint8)
    out = plots.overlay(image, mask, alpha=0.25)
    assert out.shape == (2, 2, 3) and out.dtype == np.float32
    np.testing.assert_allclose(out[0, 0], [0, 0, 0])  # background: the grey pixel itself
    np.testing.assert_allclose(out[0, 1], 0.75 * 1.0 + 0.25 * PALETTE[1], rtol=1e-6)
    np.testing.assert_allclose(out[1, 1], 0.75 * 200 / 255 + 0.25 * PALETTE[4], rtol=1e-6)
    tinted = plots.overlay(image, mask, alpha=1.0, skip_background=False)
    np.testing.assert_allclose(tinted, colorize(mask), rtol=1e-6)
    with pytest.raises(ValueError, match="one shape"):
        plots.overlay(image, mask[:1])
    with pytest.raises(ValueError, match="alpha"):
        plots.overlay(image, mask, alpha=1.5)


def test_gallery_with_masks_beside_shows_each_image_and_its_colours() -> None:
    images, masks = _set(5)
    figure = plots.show_gallery(
        images, masks, columns=3, titles=[f"#{i}" for i in range(5)], title="five"
    )
    axes = figure.axes
    assert len(axes) == 2 * 3 * 2  # two rows of three (image, mask) pairs
    shown = [ax for ax in axes if ax.get_images()]
    assert len(shown) == 10
    np.testing.assert_array_equal(shown[2].get_images()[0].get_array(), images[1])
    np.testing.assert_allclose(shown[3].get_images()[0].get_array(), colorize(masks[1]))
    assert shown[2].get_title() == "#1" and figure._suptitle.get_text() == "five"
    assert [t.get_text() for t in figure.legends[0].get_texts()] == [
        "Background",
        "Soil",
        "Bedrock",
        "Sand",
        "Big Rock",
    ]


def test_gallery_overlay_and_images_alone() -> None:
    images, masks = _set(4)
    figure = plots.show_gallery(images, masks, overlay_masks=True, columns=2)
    assert len(figure.axes) == 4
    np.testing.assert_allclose(
        figure.axes[3].get_images()[0].get_array(), plots.overlay(images[3], masks[3])
    )
    alone = plots.show_gallery(images)
    assert len(alone.axes) == 4 and not alone.legends
    np.testing.assert_array_equal(alone.axes[0].get_images()[0].get_array(), images[0])


def test_gallery_refuses_bad_input() -> None:
    images, masks = _set(3)
    with pytest.raises(ValueError, match="stack"):
        plots.show_gallery(images[0])
    with pytest.raises(ValueError, match="shape of images"):
        plots.show_gallery(images, masks[:2])
    with pytest.raises(ValueError, match="one title per image"):
        plots.show_gallery(images, masks, titles=["a"])


def test_class_histograms_are_densities_of_each_class() -> None:
    images = np.array([[[10, 10, 20, 200]]], dtype=np.uint8)
    masks = np.array([[[1, 1, 1, 3]]], dtype=np.uint8)
    ax = plots.class_histograms(images, masks)
    patches = ax.patches
    assert [p.get_label() for p in patches] == ["Soil", "Sand"]
    soil = np.zeros(256)
    soil[10], soil[20] = 2 / 3, 1 / 3
    np.testing.assert_allclose(patches[0].get_data().values, soil)
    assert patches[1].get_data().values[200] == 1.0


def test_examples_of_picks_images_where_the_class_is_large() -> None:
    masks = np.zeros((6, 2, 2), dtype=np.uint8)
    masks[[1, 3, 4], 0] = 2  # half the pixels
    masks[5, 0, 0] = 4  # a quarter
    picked = plots.examples_of(masks, 2, 2, seed=0)
    assert len(picked) == 2 and set(picked) <= {1, 3, 4}
    np.testing.assert_array_equal(plots.examples_of(masks, 4, 3, min_share=0.5), [5])
    assert len(plots.examples_of(masks, 3, 2)) == 0
    with pytest.raises(ValueError, match="label"):
        plots.examples_of(masks, 7, 2)
