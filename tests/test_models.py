"""The model zoo: shapes, sizes, learning, saving, mixed precision,
the custom blocks and bad input."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import keras
import numpy as np
import pytest

from marslib import models
from marslib.bench import models as bench
from marslib.models import blocks

NAMES = ["unet", "deeplabv3", "wnet", "pspnet", "attention_psp"]

# Parameter counts each model must stay within: "quick" trains in about a minute on a CPU,
# "full" is report scale (a few million parameters).
PARAMETER_RANGES = {
    "quick": {name: (50_000, 300_000) for name in NAMES},
    "full": {name: (1_500_000, 6_000_000) for name in NAMES},
}

# An input size other than the default (64, 128, 1) that every architecture can take
# (the PSP models need multiples of 2**3 poolings x 8, the pyramid's largest bin).
OTHER_SHAPE = (128, 64, 1)


def block_data(shape: tuple[int, int], count: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Images float32 (count, H, W, 1) and masks int32 (count, H, W) of 8x8 class blocks.

    A pixel's grey level is its class / 4 plus noise of standard deviation 0.2, so the level
    alone is ambiguous and a model must use the neighbourhood to label the blocks right.
    """
    rng = np.random.default_rng(seed)
    height, width = shape
    masks = rng.integers(0, 5, (count, height // 8, width // 8)).repeat(8, axis=1).repeat(8, axis=2)
    images = masks / 4 + rng.normal(0.0, 0.2, masks.shape)
    return images.astype(np.float32)[..., None], masks.astype(np.int32)


@pytest.fixture(scope="module")
def quick_models() -> dict[str, keras.Model]:
    keras.utils.set_random_seed(0)
    return {name: models.build(name) for name in NAMES}


@contextlib.contextmanager
def global_policy(name: str) -> Iterator[None]:
    """Keras' global dtype policy set to `name` inside, the one before it restored after."""
    previous = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)


@pytest.fixture
def mixed_precision() -> Iterator[None]:
    with global_policy("mixed_float16"):
        yield


def test_names_are_the_reports_architectures_in_order() -> None:
    assert models.names() == NAMES
    assert set(models.SIZES) == set(NAMES)
    assert all(set(models.SIZES[name]) == {"quick", "full"} for name in NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_output_is_a_probability_map_at_two_input_sizes(
    name: str, quick_models: dict[str, keras.Model]
) -> None:
    images, _ = block_data((64, 128), 2)
    probabilities = keras.ops.convert_to_numpy(quick_models[name](images, training=False))
    assert probabilities.shape == (2, 64, 128, 5) and probabilities.dtype == np.float32
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
    other = models.build(name, OTHER_SHAPE, num_classes=3)
    assert other.output_shape == (None, *OTHER_SHAPE[:2], 3)


@pytest.fixture(scope="module")
def parameter_counts() -> dict[tuple[str, str], int]:
    return {
        (name, size): models.build(name, size=size).count_params()
        for name in NAMES
        for size in ("quick", "full")
    }


@pytest.mark.parametrize("size", ["quick", "full"])
@pytest.mark.parametrize("name", NAMES)
def test_parameter_count_in_its_stated_range(name: str, size: str, parameter_counts: dict) -> None:
    low, high = PARAMETER_RANGES[size][name]
    assert low <= parameter_counts[(name, size)] <= high


def test_quick_is_smaller_than_full_and_options_override_the_size(parameter_counts: dict) -> None:
    for name in NAMES:
        assert parameter_counts[(name, "quick")] < parameter_counts[(name, "full")] / 5
    assert (
        models.build("unet", base_filters=4).count_params()
        < parameter_counts[("unet", "quick")] / 3
    )
    assert models.build("unet", depth=2).get_layer("bottleneck_a_conv").output.shape[1:3] == (
        16,
        32,
    )


@pytest.mark.parametrize("name", NAMES)
def test_one_training_step_lowers_the_loss(name: str, quick_models: dict[str, keras.Model]) -> None:
    model = quick_models[name]
    images, masks = block_data((64, 128), 4, seed=1)
    # Eager: two steps do not repay tracing the training function.
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss="sparse_categorical_crossentropy",
        run_eagerly=True,
    )
    # train_on_batch returns the loss of the forward pass before its update: the second call
    # measures the same batch after exactly one step.
    before = float(model.train_on_batch(images, masks))
    after = float(model.train_on_batch(images, masks))
    assert np.isfinite(before) and after < before


@pytest.mark.parametrize("name, options", [("unet", {}), ("attention_psp", {"bins": (1, 2, 4)})])
def test_a_small_model_overfits_eight_images(name: str, options: dict) -> None:
    keras.utils.set_random_seed(0)
    images, masks = block_data((32, 64), 8)
    model = models.build(name, (32, 64, 1), **options)
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="sparse_categorical_crossentropy")
    accuracy = 0.0
    for _ in range(10):  # at most 100 steps
        for _ in range(10):
            model.train_on_batch(images, masks)
        probabilities = keras.ops.convert_to_numpy(model(images, training=False))
        accuracy = float((probabilities.argmax(axis=-1) == masks).mean())
        if accuracy >= 0.97:
            break
    assert accuracy >= 0.97


@pytest.mark.parametrize("name", NAMES)
def test_save_and_reload_gives_identical_predictions(
    name: str, quick_models: dict[str, keras.Model], tmp_path
) -> None:
    model = quick_models[name]
    images, _ = block_data((64, 128), 2, seed=2)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    assert [type(layer) for layer in reloaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(
        keras.ops.convert_to_numpy(reloaded(images, training=False)),
        keras.ops.convert_to_numpy(model(images, training=False)),
    )


@pytest.mark.parametrize("name", NAMES)
def test_output_is_float32_under_mixed_precision(name: str, mixed_precision: None) -> None:
    model = models.build(name, (64, 64, 1))
    convolutions = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(layer.compute_dtype == "float16" for layer in convolutions)
    probabilities = model(block_data((64, 64), 1)[0], training=False)
    assert keras.backend.standardize_dtype(probabilities.dtype) == "float32"
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(probabilities).sum(axis=-1), 1.0, atol=1e-3
    )


def test_the_policy_switch_restores_the_policy_before_it_even_after_an_error() -> None:
    def current() -> str:
        return keras.mixed_precision.global_policy().name

    before = current()
    with global_policy("mixed_bfloat16"):
        with pytest.raises(RuntimeError, match="inside"):
            with global_policy("mixed_float16"):
                assert current() == "mixed_float16"
                raise RuntimeError("inside")
        assert current() == "mixed_bfloat16"  # the policy before it, not float32
    assert current() == before


def test_unet_with_squeeze_excitation_adds_one_block_per_stack() -> None:
    plain, with_se = models.build("unet"), models.build("unet", se=True)
    se_layers = [layer for layer in with_se.layers if isinstance(layer, blocks.SqueezeExcitation)]
    assert len(se_layers) == 2 * 3 + 1  # encoder and decoder stages of depth 3, and the bottleneck
    assert with_se.count_params() > plain.count_params()
    assert not any(isinstance(layer, blocks.SqueezeExcitation) for layer in plain.layers)


def test_deeplabv3_has_the_aspp_branches_it_is_asked_for() -> None:
    model = models.build("deeplabv3", atrous_rates=(3, 5))
    assert model.get_layer("aspp_rate3_conv").dilation_rate == (3, 3)
    assert model.get_layer("aspp_rate5_conv").dilation_rate == (5, 5)
    assert model.get_layer("aspp_image_pool").output.shape[1:3] == (1, 1)
    assert model.get_layer("aspp_project_conv").output.shape[1:3] == (8, 16)  # output stride 8
    branches = model.get_layer("aspp_concat").input
    assert len(branches) == 1 + 2 + 1  # 1x1, two dilated, image pooling


def test_pspnet_pools_its_bottleneck_to_each_bin() -> None:
    model = models.build("pspnet")
    for b in (1, 2, 4, 8):
        assert model.get_layer(f"ppm_pool{b}").output.shape[1:3] == (b, b)
        assert model.get_layer(f"ppm_pool{b}_up").output.shape[1:3] == (8, 16)
    assert not any(isinstance(layer, blocks.AttentionGate) for layer in model.layers)


def test_attention_psp_gates_every_skip_with_the_deeper_decoder_features() -> None:
    model = models.build("attention_psp")
    gates = {layer.name: layer for layer in model.layers if isinstance(layer, blocks.AttentionGate)}
    assert sorted(gates) == ["dec1_gate", "dec2_gate", "dec3_gate"]
    queries = {3: "ppm_merge_relu", 2: "dec3_b_relu", 1: "dec2_b_relu"}
    for stage, query in queries.items():
        skip, gating = gates[f"dec{stage}_gate"].input
        assert (
            skip is model.get_layer(f"enc{stage}_b_relu").output
        )  # key and value: the encoder's features
        assert (
            gating is model.get_layer(query).output
        )  # query: the decoder's features one level deeper
    assert model.get_layer("ppm_pool8").output.shape[1:3] == (8, 8)


def test_wnet_refines_the_first_unets_probabilities() -> None:
    model = models.build("wnet")
    assert model.get_layer("refine_input").output.shape[-1] == 1 + 5
    assert len(model.outputs) == 1 and model.output_names == ["refined"]
    supervised = models.build("wnet", deep_supervision=True)
    assert supervised.output_names == ["coarse", "refined"]
    coarse, refined = supervised(block_data((64, 128), 1)[0], training=False)
    assert coarse.shape == refined.shape == (1, 64, 128, 5)


def test_squeeze_excitation_rescales_each_channel_as_computed_by_hand() -> None:
    keras.utils.set_random_seed(0)
    layer = blocks.SqueezeExcitation(ratio=2)
    x = np.random.default_rng(0).normal(size=(2, 4, 6, 8)).astype(np.float32)
    y = keras.ops.convert_to_numpy(layer(x))
    assert y.shape == x.shape
    scales = y / x  # the same factor for every pixel of a channel
    np.testing.assert_allclose(
        scales, np.broadcast_to(scales[:, :1, :1, :], scales.shape), rtol=1e-4
    )
    assert np.all((scales > 0) & (scales < 1))
    w1, b1, w2, b2 = (
        keras.ops.convert_to_numpy(w) for w in (*layer.squeeze.weights, *layer.excite.weights)
    )
    assert w1.shape == (8, 4)
    hidden = np.maximum(x.mean(axis=(1, 2)) @ w1 + b1, 0.0)
    expected = 1.0 / (1.0 + np.exp(-(hidden @ w2 + b2)))
    np.testing.assert_allclose(scales[:, 0, 0, :], expected, rtol=1e-4)


def test_attention_gate_weights_the_skip_by_coefficients_in_zero_one() -> None:
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    skip = rng.normal(size=(2, 8, 12, 6)).astype(np.float32)
    gating = rng.normal(size=(2, 4, 6, 10)).astype(np.float32)
    gate = blocks.AttentionGate(filters=3)
    out = keras.ops.convert_to_numpy(gate([skip, gating]))
    alpha = keras.ops.convert_to_numpy(gate.coefficients(skip, gating))
    assert out.shape == skip.shape and alpha.shape == (2, 8, 12, 1)
    assert alpha.min() >= 0.0 and alpha.max() <= 1.0 and alpha.std() > 0
    np.testing.assert_allclose(out, skip * alpha, rtol=1e-5)
    # By hand at the gating resolution: key = 2x2 stride-2 convolution of the skip,
    # query = 1x1 of the gating.
    key_kernel = keras.ops.convert_to_numpy(gate.key.kernel)  # (2, 2, 6, 3)
    query_kernel, query_bias = (keras.ops.convert_to_numpy(w) for w in gate.query.weights)
    psi_kernel, psi_bias = (keras.ops.convert_to_numpy(w) for w in gate.psi.weights)
    patches = skip.reshape(2, 4, 2, 6, 2, 6).transpose(0, 1, 3, 2, 4, 5)  # (B, h, w, 2, 2, C)
    key = np.einsum("bhwijc,ijcf->bhwf", patches, key_kernel)
    query = gating @ query_kernel[0, 0] + query_bias
    coarse = 1.0 / (1.0 + np.exp(-(np.maximum(key + query, 0.0) @ psi_kernel[0, 0] + psi_bias)))
    upsampled = keras.layers.UpSampling2D(2, interpolation="bilinear")(coarse.astype(np.float32))
    np.testing.assert_allclose(alpha, keras.ops.convert_to_numpy(upsampled), rtol=1e-4, atol=1e-6)


def test_attention_gate_needs_a_gating_signal_at_half_resolution() -> None:
    with pytest.raises(ValueError, match="twice"):
        blocks.AttentionGate(filters=2)(
            [np.zeros((1, 8, 8, 2), np.float32), np.zeros((1, 8, 8, 2), np.float32)]
        )


def test_forward_flops_of_one_convolution_by_hand() -> None:
    inputs = keras.Input((8, 16, 3))
    model = keras.Model(inputs, keras.layers.Conv2D(4, 3, padding="same", use_bias=False)(inputs))
    assert bench.forward_flops(model) == 2 * 8 * 16 * 3 * 3 * 3 * 4


def test_benchmark_reports_every_figure_per_model_and_size(
    monkeypatch: pytest.MonkeyPatch, parameter_counts: dict
) -> None:
    # The timings and FLOPs are measured elsewhere;
    # here only what the table holds and how it is printed.
    with pytest.raises(ValueError, match="scale"):
        bench.table("medium")
    monkeypatch.setattr(bench, "forward_flops", lambda model: 3_000_000)
    monkeypatch.setattr(bench, "inference_throughput", lambda model, images: 100.0)
    monkeypatch.setattr(bench, "training_throughput", lambda model, images: 50.0)
    frame = bench.table("full", names=["deeplabv3"])
    assert list(frame.index) == [("deeplabv3", "quick"), ("deeplabv3", "full")]
    assert list(frame.columns) == list(bench.COLUMNS)
    assert frame.loc[("deeplabv3", "full"), "parameters"] == parameter_counts[("deeplabv3", "full")]
    assert frame.loc[("deeplabv3", "quick"), "MFLOPs per image"] == 3.0
    monkeypatch.setattr(bench, "table", lambda scale: frame)
    measurements = bench.benchmark("full")
    assert len(measurements) == 2 * len(bench.COLUMNS)
    assert ("deeplabv3 full: training", 50.0, "images/s") in [
        (m.what, m.value, m.unit) for m in measurements
    ]


@pytest.mark.parametrize(
    "call, message",
    [
        (lambda: models.build("segformer"), r"unknown model 'segformer'.*unet.*attention_psp"),
        (lambda: models.build("unet", size="huge"), r"unknown size 'huge'.*quick"),
        (lambda: models.build("unet", dropout=0.5), r"unknown option.*dropout.*base_filters"),
        (lambda: models.build("pspnet", se=True), r"unknown option.*se"),
        (lambda: models.build("unet", (60, 128, 1)), r"multiples of 8.*60x128"),
        (lambda: models.build("unet", (64, 128, 3)), r"1 channel.*3 channels"),
        (lambda: models.build("unet", (64, 128)), r"three positive integers"),
        (lambda: models.build("unet", 64), r"three positive integers"),
        (lambda: models.build("deeplabv3", (64, 102, 1), depth=2), r"multiples of 4.*64x102"),
        (lambda: models.build("pspnet", (64, 96, 1)), r"multiples of 64.*bins"),
        (lambda: models.build("attention_psp", bins=(1, 3)), r"multiples of 24"),
        (lambda: models.build("wnet", depth=0), r"depth must be a positive integer"),
        (
            lambda: models.build("unet", base_filters=8.0),
            r"base_filters must be a positive integer",
        ),
        (lambda: models.build("unet", num_classes=1), r"num_classes"),
        (lambda: models.build("deeplabv3", atrous_rates=(2, 0)), r"atrous rate"),
    ],
)
def test_bad_input_raises_a_clear_value_error(call, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
