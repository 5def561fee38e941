"""The GPU benchmark: nothing without a GPU, and its figures with the GPU parts stood in for."""

from __future__ import annotations

import numpy as np
import pytest

from marslib import cli
from marslib.bench import AREAS
from marslib.bench import gpu as gpu_bench
from marslib.training.experiment import Experiment


@pytest.fixture
def no_gpu(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_bench.tf.config, "list_physical_devices", lambda kind=None: [])


def test_the_area_is_registered() -> None:
    assert AREAS["gpu"] == "marslib.bench.gpu"


def test_without_a_gpu_it_says_so_and_measures_nothing(
    no_gpu: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert gpu_bench.benchmark("small") == []
    assert "no GPU visible" in capsys.readouterr().out


def test_python_dash_m_marslib_bench_gpu_exits_0_without_a_gpu(
    no_gpu: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["bench", "gpu", "--scale", "small"]) == 0
    out = capsys.readouterr().out
    assert "== gpu (small)" in out and "no GPU visible" in out


def test_an_unknown_scale_is_refused() -> None:
    with pytest.raises(ValueError, match="scale must be one of"):
        gpu_bench.benchmark("medium")


def test_figures_of_both_settings_and_the_speed_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_bench.tf.config, "list_physical_devices", lambda kind=None: ["a GPU"])
    trained = []

    def train_epochs(recipe: Experiment, images: int, epochs: int) -> dict[str, float]:
        trained.append((recipe.model, recipe.model_size, recipe.mixed_precision, images, epochs))
        seconds = 2.0 if recipe.jit_compile else 5.0
        return {"seconds": seconds, "images/s": images / seconds, "peak bytes": 3 * 2**30}

    monkeypatch.setattr(gpu_bench, "train_epochs", train_epochs)
    found = {m.what: (m.value, m.unit) for m in gpu_bench.benchmark("small")}
    assert trained == [
        ("attention_psp", "full", False, 1024, 2),
        ("attention_psp", "full", True, 1024, 2),
    ]
    assert found == {
        "attention_psp full, float32: seconds per epoch of 1024 images": (5.0, "s"),
        "attention_psp full, float32: training": (1024 / 5.0, "images/s"),
        "attention_psp full, float32: peak GPU memory": (3072.0, "MiB"),
        "attention_psp full, mixed precision + XLA: seconds per epoch of 1024 images": (2.0, "s"),
        "attention_psp full, mixed precision + XLA: training": (1024 / 2.0, "images/s"),
        "attention_psp full, mixed precision + XLA: peak GPU memory": (3072.0, "MiB"),
        "attention_psp full: mixed precision + XLA speed-up": (2.5, "x"),
    }


def test_the_settings_are_the_full_profiles() -> None:
    plain, fast = gpu_bench.experiment(False), gpu_bench.experiment(True)
    assert (plain.profile, plain.model_size, plain.batch_size) == ("full", "full", 64)
    assert (plain.mixed_precision, plain.jit_compile) == (False, False)
    assert (fast.mixed_precision, fast.jit_compile) == (True, True)


def test_training_times_the_epochs_after_a_warm_up(monkeypatch: pytest.MonkeyPatch) -> None:
    # On a CPU, with the GPU's memory counters stood in for: a tiny float32 U-Net,
    # four images in batches of two.
    monkeypatch.setattr(gpu_bench, "reset_peak_memory", lambda: None)
    monkeypatch.setattr(gpu_bench, "peak_memory", lambda: 123)
    epochs = []
    fit_epoch = gpu_bench.fit_epoch

    def recorded(
        model: object, images: np.ndarray, masks: np.ndarray, recipe: Experiment, epoch: int
    ) -> dict[str, float]:
        epochs.append((len(images), epoch))
        return fit_epoch(model, images, masks, recipe, epoch)

    monkeypatch.setattr(gpu_bench, "fit_epoch", recorded)
    recipe = Experiment(
        name="tiny",
        model="unet",
        profile="full",
        model_options={"base_filters": 2, "depth": 1},
        batch_size=2,
        mixed_precision=False,
        jit_compile=False,
    )
    result = gpu_bench.train_epochs(recipe, images=4, epochs=2)
    assert epochs == [(4, 0), (4, 1), (4, 2)]
    assert result["seconds"] > 0 and result["images/s"] == pytest.approx(4 / result["seconds"])
    assert result["peak bytes"] == 123
