"""Fixtures shared by the test files: private cache and runs folders, and a tiny synthetic set.

Every test that makes files points `MARSLIB_CACHE` and `MARSLIB_RUNS` at a temporary folder
through these fixtures, so no test reads or writes the repository's `.cache` or `runs`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from marslib import data

# The tiny experiment the training tests run (seconds on a CPU): a U-Net with 4 base filters and
# depth 2, three epochs of batches of 16 at the quick profile. Test files import it
# (``from conftest import TINY``) and change a copy: ``{**TINY, "epochs": 1}``.
TINY: dict[str, object] = {
    "name": "tiny",
    "model": "unet",
    "model_options": {"base_filters": 4, "depth": 2},
    "epochs": 3,
    "batch_size": 16,
    "patience": 2,
    "learning_rate": 0.003,
    "profile": "quick",
}


def _point_folders_at(root: Path, patch: pytest.MonkeyPatch) -> Path:
    patch.setenv("MARSLIB_CACHE", str(root / "cache"))
    patch.setenv("MARSLIB_RUNS", str(root / "runs"))
    return root


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private cache (``<tmp>/cache``) and runs folder (``<tmp>/runs``) for one test."""
    return _point_folders_at(tmp_path, monkeypatch)


@pytest.fixture(scope="module")
def module_folders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A private cache and runs folder shared by the tests of one module (restored afterwards)."""
    with pytest.MonkeyPatch.context() as patch:
        yield _point_folders_at(tmp_path_factory.mktemp("folders"), patch)


@pytest.fixture(scope="module")
def tiny_data(module_folders: Path) -> data.MarsData:
    """A tiny synthetic set (40 training, 16 test images, seed 3), cached in the module's folder."""
    return data.synthetic_data(seed=3, n_train=40, n_test=16)


@contextmanager
def no_op_determinism() -> Iterator[None]:
    """No TensorFlow op determinism inside the block, as XLA needs. The trainer turns it on for
    CPU runs (`marslib.training.loop`), Keras then refuses XLA (a warning, and the model runs
    without it), and an earlier test of the same process that trained on the CPU leaves it on;
    so it is off here, and restored after."""
    from tensorflow.python.framework import config  # the switch has no public "off"

    was_on = config.is_op_determinism_enabled()
    config.disable_op_determinism()
    try:
        yield
    finally:
        if was_on:
            config.enable_op_determinism()


@pytest.fixture
def without_op_determinism() -> Iterator[None]:
    """A test that compiles with XLA: `no_op_determinism` around it."""
    with no_op_determinism():
        yield
