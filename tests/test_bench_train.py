"""The training benchmark: what it measures and prints (timings themselves are not asserted)."""

from __future__ import annotations

import types
from collections.abc import Callable

import keras
import numpy as np
import pytest

from marslib.bench import train as train_bench
from marslib.core.classes import NUM_CLASSES
from marslib.evaluation import submission


def test_random_set_is_valid_model_input() -> None:
    images, masks = train_bench._random_set(8)
    assert images.shape == masks.shape == (8, 64, 128)
    assert images.dtype == masks.dtype == np.uint8
    assert masks.max() < NUM_CLASSES


def test_benchmark_refuses_an_unknown_scale() -> None:
    with pytest.raises(ValueError, match="scale must be one of"):
        train_bench.benchmark("medium")


def _measure_nothing(
    monkeypatch: pytest.MonkeyPatch,
    *,
    throughput,
    peaks: dict,
    bfloat16_cpu: bool,  # noqa: ANN001
) -> None:
    """Replace every timed measurement of the training benchmark by a fixed figure, on a machine
    without a GPU, with or without bfloat16 units."""
    monkeypatch.setattr(train_bench, "marslib_throughput", throughput)
    monkeypatch.setattr(train_bench, "matmul_peak", lambda dtype: peaks[dtype])
    monkeypatch.setattr(train_bench, "forward_flops", lambda model: 125_000_000)
    monkeypatch.setattr(train_bench, "pipeline_efficiency", lambda m, n, r: 97.5)
    monkeypatch.setattr(train_bench, "inference_throughput", lambda model, n, r: 400.0)
    monkeypatch.setattr(
        train_bench,
        "submission_seconds",
        lambda model, with_pandas: {
            "predict and write": 30.0,
            "predict and write, CPU": 50.0,
            "write only": 3.0,
        },
    )
    monkeypatch.setattr(train_bench.tf.config, "list_physical_devices", lambda kind=None: [])
    monkeypatch.setattr(train_bench.hardware, "cpu_bfloat16", lambda: bfloat16_cpu)


def test_small_benchmark_prints_every_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []
    _measure_nothing(
        monkeypatch,
        throughput=lambda m, s, n, r, fast=False: calls.append((m, s, n)) or 40.0,
        peaks={"float32": 150.0, "bfloat16": None},  # as where bfloat16 has no kernel
        bfloat16_cpu=False,
    )
    found = {(m.what, m.value, m.unit) for m in train_bench.benchmark("small")}
    assert calls == [("unet", "quick", 1024)]
    # 40 images/s x 3 x 125 MFLOP = 15 GFLOP/s, 10% of 150 GFLOP/s.
    assert found == {
        ("matmul peak, float32 (4096x4096)", 150.0, "GFLOP/s"),
        ("unet quick: training through marslib", 40.0, "images/s"),
        ("unet quick: training, 3 x forward FLOPs", 15.0, "GFLOP/s"),
        ("unet quick: training, % of the float32 matmul peak", 10.0, "%"),
        ("unet quick: marslib epoch speed, % of plain model.fit", 97.5, "%"),
        ("unet quick: inference (models.predict)", 400.0, "images/s"),
        ("submission: predict 10022 images + write CSV (unet quick)", 30.0, "s"),
        ("submission: the same, CPU seconds of this process", 50.0, "s"),
        ("submission: write the 10022-row CSV", 3.0, "s"),
    }
    assert "neither a GPU nor a CPU with bfloat16 units" in capsys.readouterr().out


def test_on_a_bfloat16_cpu_the_benchmark_times_the_full_sizes_both_ways(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls = []

    def throughput(m: str, s: str, n: int, r: int, fast: bool = False) -> float:
        calls.append((m, s, n, fast))
        return 70.0 if fast else 40.0

    peaks = {"float32": 150.0, "bfloat16": 600.0}
    _measure_nothing(monkeypatch, throughput=throughput, peaks=peaks, bfloat16_cpu=True)
    found = {m.what: m.value for m in train_bench.benchmark("small")}
    assert found["unet full: mixed_bfloat16 speed, % of float32"] == pytest.approx(175.0)
    assert found["matmul peak, bfloat16 (4096x4096)"] == 600.0
    assert calls[-2:] == [
        ("unet", "full", train_bench.FULL_IMAGES, False),
        ("unet", "full", train_bench.FULL_IMAGES, True),
    ]


def test_flops_of_a_tiny_convolution_model_by_hand() -> None:
    # 8x16 images with 3 channels: a 3x3 convolution to 4 channels with bias, ReLU, then a
    # 1x1 convolution to 5 channels with bias. A k x k convolution costs 2 k^2 C_in C_out
    # per output pixel (a multiply and an add per weight), a bias one add per output value;
    # the profiler counts no FLOPs for ReLU (a comparison).
    inputs = keras.Input((8, 16, 3))
    hidden = keras.layers.Conv2D(4, 3, padding="same", activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Conv2D(5, 1)(hidden))
    pixels = 8 * 16
    by_hand = pixels * (2 * 3 * 3 * 3 * 4 + 4) + pixels * (2 * 4 * 5 + 5)
    assert by_hand == 33_920
    assert train_bench.forward_flops(model) == by_hand


def test_training_gflops_count_three_forward_passes() -> None:
    assert train_bench.training_gflops(2_000_000_000, 10.0) == pytest.approx(60.0)


def test_matmul_peak_counts_two_n_cubed_operations_per_product(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    products = []

    def best_seconds(step: Callable[[], None], repeats: int) -> float:
        step()
        products.append(repeats)
        return 0.5

    monkeypatch.setattr(train_bench, "_best_seconds", best_seconds)
    assert train_bench.matmul_peak("float32", size=64, repeats=4) == 2 * 64**3 / 0.5 / 1e9
    assert products == [4]


def test_matmul_peak_measures_float32_and_skips_a_dtype_without_a_kernel() -> None:
    peak = train_bench.matmul_peak("float32", size=256, repeats=2)
    assert peak is not None and np.isfinite(peak) and peak > 0
    assert train_bench.matmul_peak("uint8", size=8, repeats=1) is None


def test_pipeline_efficiency_runs_both_paths_on_a_real_model() -> None:
    # 64 random images, one repeat: our epoch and a plain fit both train the same quick U-Net.
    # A measurement, not checked against a band: only that both paths ran and gave a figure.
    percent = train_bench.pipeline_efficiency("unet", images=64, repeats=1)
    assert np.isfinite(percent) and percent > 0


def test_pipeline_efficiency_is_plain_fit_over_our_epoch_best_of_repeats(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A clock that moves only when a path trains: after an untimed warm-up of each, our epoch
    takes 4 s then 5 s, the plain fit 3 s then 1 s; best of each: 100 * 1 / 4 = 25 %."""
    clock = [0.0]
    durations = {"ours": iter([9.0, 4.0, 5.0]), "plain": iter([9.0, 3.0, 1.0])}
    trained: list[object] = []

    class Model:
        def fit(self, *args: object, **kwargs: object) -> None:
            trained.append(self)
            clock[0] += next(durations["plain"])

    def fit_epoch(model: object, *args: object) -> None:
        trained.append(model)
        clock[0] += next(durations["ours"])

    monkeypatch.setattr(train_bench, "build_model", lambda *args, **kwargs: Model())
    monkeypatch.setattr(train_bench, "fit_epoch", fit_epoch)
    monkeypatch.setattr(train_bench, "time", types.SimpleNamespace(perf_counter=lambda: clock[0]))
    assert train_bench.pipeline_efficiency("unet", images=8, repeats=2) == pytest.approx(25.0)
    assert len(trained) == 6 and len({id(model) for model in trained}) == 1  # one model


def test_submission_timing_predicts_writes_twice_and_times_pandas(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    class Constant:
        """Stands in for a model: predicts Soil everywhere."""

    monkeypatch.setattr(train_bench, "TEST_IMAGES", 12)
    monkeypatch.setattr(
        train_bench.models, "predict", lambda model, x: np.ones((len(x), 64, 128), dtype=np.uint8)
    )
    written = []
    original = submission.write_submission
    monkeypatch.setattr(
        train_bench.submission,
        "write_submission",
        lambda labels, path: written.append(original(labels, path)),
    )
    seconds = train_bench.submission_seconds(Constant(), with_pandas=True)
    assert set(seconds) == {
        "predict and write",
        "predict and write, CPU",
        "write only",
        "pandas to_csv",
    }
    assert all(value >= 0 for value in seconds.values())
    assert len(written) == 2
