"""The training benchmark: what it measures and prints (timings themselves are not asserted)."""

from __future__ import annotations

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


def test_small_benchmark_prints_every_figure(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    calls = []
    monkeypatch.setattr(
        train_bench,
        "marslib_throughput",
        lambda m, s, n, r, fast=False: calls.append((m, s, n)) or 40.0,
    )
    monkeypatch.setattr(train_bench, "pipeline_efficiency", lambda m, n, r: 97.5)
    monkeypatch.setattr(train_bench, "inference_throughput", lambda model, n, r: 400.0)
    monkeypatch.setattr(
        train_bench,
        "submission_seconds",
        lambda model, with_pandas: {"predict and write": 30.0, "write only": 3.0},
    )
    monkeypatch.setattr(train_bench.tf.config, "list_physical_devices", lambda kind=None: [])
    found = {(m.what, m.value, m.unit) for m in train_bench.benchmark("small")}
    assert calls == [("unet", "quick", 1024)]
    assert found == {
        ("unet quick: training through marslib", 40.0, "images/s"),
        ("unet quick: marslib epoch speed, % of plain model.fit", 97.5, "%"),
        ("unet quick: inference (models.predict)", 400.0, "images/s"),
        ("submission: predict 10022 images + write CSV (unet quick)", 30.0, "s"),
        ("submission: write the 10022-row CSV", 3.0, "s"),
    }
    assert "no GPU visible" in capsys.readouterr().out


def test_pipeline_efficiency_times_both_paths_on_one_model() -> None:
    # 64 random images, one repeat: our epoch and a plain fit both train the same quick U-Net.
    percent = train_bench.pipeline_efficiency("unet", images=64, repeats=1)
    assert np.isfinite(percent) and 5.0 < percent < 2000.0


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
    assert set(seconds) == {"predict and write", "write only", "pandas to_csv"}
    assert all(value >= 0 for value in seconds.values())
    assert len(written) == 2
