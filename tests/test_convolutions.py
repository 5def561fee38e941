"""marslib.analysis.convolutions: one set of weights on several image sizes, and the two ways to
double a feature map (their weights, and what each makes of a constant input)."""

from __future__ import annotations

import numpy as np
import pytest

from marslib.analysis import convolutions


def test_one_set_of_weights_runs_on_every_size_its_poolings_divide() -> None:
    table = convolutions.at_sizes("unet", [(32, 64), (64, 32)], size="quick")
    assert list(table.index) == ["32x64", "64x32"]
    assert list(table["output shape"]) == [(32, 64, 5), (64, 32, 5)]
    assert table["parameters"].nunique() == 1, "the same weights serve both sizes"
    assert (table["softmax sum - 1 (max)"] < 1e-5).all()
    # a dense head on the last features (8 channels at the quick size) grows with the image
    assert list(table["Flatten + Dense head"]) == [32 * 64 * 8 * 5 + 5] * 2


def test_at_sizes_refuses_no_shape_a_repeated_one_and_one_the_poolings_do_not_divide() -> None:
    with pytest.raises(ValueError, match="at least one"):
        convolutions.at_sizes("unet", [])
    with pytest.raises(ValueError, match="each once"):
        convolutions.at_sizes("unet", [(32, 32), (32, 32)])
    with pytest.raises(ValueError, match="multiples of 8"):
        convolutions.at_sizes("unet", [(64, 128), (60, 120)])


def test_upsampling_parameters_are_counted_on_the_layers() -> None:
    counts = convolutions.upsampling_parameters(4, 2)
    assert counts == {
        "Conv2DTranspose, kernel 3, stride 2": 3 * 3 * 4 * 2 + 2,
        "Conv2DTranspose, kernel 2, stride 2": 2 * 2 * 4 * 2 + 2,
        "UpSampling2D, then Conv2D kernel 3": 3 * 3 * 4 * 2 + 2,
    }


def test_a_transposed_convolution_with_kernel_3_and_stride_2_draws_a_checkerboard() -> None:
    transposed, resized = convolutions.checkerboard(kernel_size=3, strides=2, size=6)
    assert transposed.shape == resized.shape == (12, 12)
    assert set(np.unique(transposed[2:-2, 2:-2])) == {1.0, 2.0, 4.0}
    assert transposed[2, 2] == 4 * transposed[1, 1]  # a pixel covered four times beside one once
    assert set(np.unique(resized[1:-1, 1:-1])) == {9.0}, "upsampling then convolving stays even"


def test_a_kernel_that_the_stride_divides_overlaps_evenly() -> None:
    transposed, _ = convolutions.checkerboard(kernel_size=4, strides=2, size=6)
    assert set(np.unique(transposed[2:-2, 2:-2])) == {4.0}
