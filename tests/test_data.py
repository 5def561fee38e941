"""Loading the data: the real file's format, every bad input, the model view, the split."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marslib import data as mars_data
from marslib.core import paths
from marslib.core.classes import BIG_ROCK
from marslib.data import MarsData, loading


@pytest.fixture(scope="module")
def small(module_folders: Path) -> MarsData:
    """A small synthetic set (120 training, 30 test images), cached in the module's folder."""
    return mars_data.synthetic_data(seed=11, n_train=120, n_test=30)


def _real_format(n: int = 4, m: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Arrays shaped like the real file: float64 training_set (n, 2, 64, 128),
    test_set (m, 64, 128)."""
    rng = np.random.default_rng(seed)
    training_set = np.stack(
        [rng.integers(0, 256, (n, 64, 128)), rng.integers(0, 5, (n, 64, 128))], axis=1
    ).astype(np.float64)
    return training_set, rng.integers(0, 256, (m, 64, 128)).astype(np.float64)


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def test_round_trip_through_the_real_format_read_the_plain_way(
    small: MarsData, tmp_path: Path
) -> None:
    path = mars_data.save_npz(small, tmp_path / "export.npz")
    with np.load(path) as npz:
        assert sorted(npz.files) == ["test_set", "training_set"]  # no test labels in the file
        assert npz["training_set"].shape == (120, 2, 64, 128) and npz["test_set"].shape == (
            30,
            64,
            128,
        )
        assert np.issubdtype(npz["training_set"].dtype, np.floating)
        np.testing.assert_array_equal(npz["training_set"][:, 0], small.train_images)
        np.testing.assert_array_equal(npz["training_set"][:, 1], small.train_masks)
        np.testing.assert_array_equal(npz["test_set"], small.test_images)
    loaded = mars_data.load(path)
    assert loaded.source == str(path) and not loaded.is_synthetic
    assert loaded.test_masks is None and loaded.meta == {}
    # a file is named by its content, the synthetic set by its recipe
    as_file = MarsData(small.train_images, small.train_masks, small.test_images, None, "any file")
    assert loaded.fingerprint == as_file.fingerprint
    assert loaded.train_images.dtype == loaded.train_masks.dtype == np.uint8


def test_save_npz_wants_an_npz_name(small: MarsData, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match=r"\.npz"):
        mars_data.save_npz(small, tmp_path / "export.csv")


def test_reads_a_file_written_like_the_real_one(tmp_path: Path) -> None:
    training_set, test_set = _real_format()
    loaded = mars_data.load(
        _write(tmp_path / "real.npz", training_set=training_set, test_set=test_set)
    )
    np.testing.assert_array_equal(loaded.train_images, training_set[:, 0].astype(np.uint8))
    np.testing.assert_array_equal(loaded.train_masks, training_set[:, 1].astype(np.uint8))
    np.testing.assert_array_equal(loaded.test_images, test_set.astype(np.uint8))


def _bad(kind: str) -> dict[str, np.ndarray]:
    training_set, test_set = _real_format()
    arrays = {"training_set": training_set, "test_set": test_set}
    if kind == "missing training_set":
        del arrays["training_set"]
    elif kind == "missing test_set":
        del arrays["test_set"]
    elif kind == "training rank":
        arrays["training_set"] = training_set[:, 0]
    elif kind == "training shape":
        arrays["training_set"] = training_set[:, :, :32]
    elif kind == "three channels":
        arrays["training_set"] = np.concatenate([training_set, training_set[:, :1]], axis=1)
    elif kind == "test rank":
        arrays["test_set"] = test_set[..., None]
    elif kind == "test shape":
        arrays["test_set"] = test_set[:, :, :64]
    elif kind == "mask above 4":
        training_set[1, 1, 5, 5] = 5
    elif kind == "negative mask":
        training_set[1, 1, 5, 5] = -1
    elif kind == "fractional mask":
        training_set[1, 1, 5, 5] = 1.5
    elif kind == "NaN image":
        training_set[0, 0, 0, 0] = np.nan
    elif kind == "infinite test":
        test_set[0, 0, 0] = np.inf
    elif kind == "NaN mask":
        training_set[0, 1, 3, 3] = np.nan
    elif kind == "pixel above 255":
        training_set[2, 0, 1, 1] = 256
    elif kind == "negative pixel":
        test_set[1, 1, 1] = -3
    elif kind == "scaled pixels":
        training_set[:, 0] /= 255.0
    elif kind == "empty training":
        arrays["training_set"] = training_set[:0]
    elif kind == "empty test":
        arrays["test_set"] = test_set[:0]
    elif kind == "text labels":
        arrays["training_set"] = training_set.astype(int).astype(str)
    return arrays


BAD_FILES = {
    "missing training_set": "lacks the key",
    "missing test_set": "lacks the key",
    "training rank": r"training_set must have shape \(N, 2, 64, 128\)",
    "training shape": r"training_set must have shape \(N, 2, 64, 128\)",
    "three channels": r"training_set must have shape \(N, 2, 64, 128\)",
    "test rank": r"test_set must have shape \(M, 64, 128\)",
    "test shape": r"test_set must have shape \(M, 64, 128\)",
    "mask above 4": "masks.*expected class labels, whole numbers 0..4",
    "negative mask": "masks.*expected class labels",
    "fractional mask": "masks.*not whole numbers",
    "NaN image": "images.*NaN or infinite",
    "infinite test": "test_set.*NaN or infinite",
    "NaN mask": "masks.*NaN or infinite",
    "pixel above 255": "images.*expected pixel values, whole numbers 0..255",
    "negative pixel": "test_set.*expected pixel values",
    "scaled pixels": r"not whole numbers.*scaled to \[0, 1\]",
    "empty training": "empty set",
    "empty test": "empty set",
    "text labels": "expected real numbers",
}


@pytest.mark.parametrize("kind", list(BAD_FILES))
def test_bad_files_get_a_clear_value_error(kind: str, tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.npz", **_bad(kind))
    with pytest.raises(ValueError, match=BAD_FILES[kind]):
        mars_data.load(path)


def test_fractional_masks_are_called_wrong_labels_not_scaled_images(tmp_path: Path) -> None:
    """The hint "were they scaled to [0, 1]?" is for images; a fraction in a mask is a wrong
    label."""
    for kind in ("fractional mask", "scaled masks"):
        if kind == "scaled masks":
            training_set, test_set = _real_format()
            training_set[:, 1] /= 4.0  # not what the course does, but a mask with fractions
            arrays = {"training_set": training_set, "test_set": test_set}
        else:
            arrays = _bad(kind)
        path = _write(tmp_path / "bad.npz", **arrays)
        with pytest.raises(ValueError) as raised:
            mars_data.load(path)
        message = str(raised.value)
        assert message.startswith("training_set[:, 1] (masks): holds fractional class labels")
        assert "expected class labels, whole numbers 0..4" in message
        assert "scaled" not in message, message
    with pytest.raises(ValueError, match=r"such as 1\.5 "):
        mars_data.load(_write(tmp_path / "bad.npz", **_bad("fractional mask")))
    with pytest.raises(ValueError) as raised:
        mars_data.load(_write(tmp_path / "bad.npz", **_bad("scaled pixels")))
    assert str(raised.value).startswith("training_set[:, 0] (images): holds values that are not")
    assert str(raised.value).endswith("(were they scaled to [0, 1]?)")


def test_a_file_that_is_not_an_npz(tmp_path: Path) -> None:
    text = tmp_path / "notes.npz"
    text.write_text("not numbers")
    with pytest.raises(ValueError, match="not an .npz archive"):
        mars_data.load(text)
    single = tmp_path / "array.npy"
    np.save(single, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="not an .npz archive"):
        mars_data.load(single)


def test_pickled_objects_are_never_loaded(tmp_path: Path) -> None:
    training_set, test_set = _real_format()
    objects = np.empty(2, dtype=object)
    objects[:] = [training_set, training_set]
    path = _write(tmp_path / "objects.npz", training_set=objects, test_set=test_set)
    with pytest.raises(ValueError, match="object arrays"):
        mars_data.load(path)


def test_a_missing_file_is_an_error_not_a_fallback(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        mars_data.load(tmp_path / "absent.npz")


def test_where_load_looks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, small: MarsData) -> None:
    training_set, test_set = _real_format()
    explicit = _write(tmp_path / "explicit.npz", training_set=training_set, test_set=test_set)
    from_env = _write(tmp_path / "env.npz", training_set=training_set[:2], test_set=test_set)
    default = _write(tmp_path / "default.npz", training_set=training_set[:3], test_set=test_set)
    monkeypatch.setattr(paths, "default_data_file", lambda: default)
    monkeypatch.setattr(loading, "synthetic_data", lambda: small)
    monkeypatch.setenv("MARSLIB_DATA", str(from_env))
    assert mars_data.load(explicit).source == str(explicit)
    assert mars_data.load().source == str(from_env)
    monkeypatch.delenv("MARSLIB_DATA")
    assert mars_data.load().source == str(default)
    monkeypatch.setattr(paths, "default_data_file", lambda: tmp_path / "nothing_here.npz")
    assert mars_data.load() is small


def test_synthetic_data_carries_labels_and_meta(small: MarsData) -> None:
    assert small.is_synthetic and small.source == "synthetic"
    assert small.test_masks is not None and small.test_masks.shape == (30, 64, 128)
    assert len(small.meta["alien_indices"]) == 10
    assert "MarsData(source='synthetic', train=120 images" in repr(small) and len(repr(small)) < 300


def test_marsdata_checks_its_arrays(small: MarsData) -> None:
    images, masks = small.train_images, small.train_masks
    with pytest.raises(ValueError, match="train_images must have dtype uint8"):
        MarsData(images.astype(np.float32), masks, small.test_images, None, "x")
    with pytest.raises(ValueError, match="train_masks must have the shape of train_images"):
        MarsData(images, masks[:-1], small.test_images, None, "x")
    bad = masks.copy()
    bad[0, 0, 0] = 7
    with pytest.raises(ValueError, match="class labels 0..4"):
        MarsData(images, bad, small.test_images, None, "x")
    with pytest.raises(ValueError, match="test_masks must have the shape of test_images"):
        MarsData(images, masks, small.test_images, masks, "x")
    with pytest.raises(ValueError, match=r"shape \(K, 64, 128\)"):
        MarsData(images[:, :32], masks[:, :32], small.test_images, None, "x")


def test_fingerprint_follows_the_content(small: MarsData) -> None:
    content = MarsData(small.train_images, small.train_masks, small.test_images, None, "file")
    same = MarsData(
        small.train_images.copy(), small.train_masks.copy(), small.test_images.copy(), None, "copy"
    )
    assert same.fingerprint == content.fingerprint and len(content.fingerprint) == 12
    changed = small.train_masks.copy()
    changed[3, 10, 10] = (changed[3, 10, 10] + 1) % 5
    assert (
        MarsData(small.train_images, changed, small.test_images, None, "x").fingerprint
        != content.fingerprint
    )


def test_to_model_input() -> None:
    images = np.array([[[0, 255], [51, 102]]], dtype=np.uint8).repeat(2, axis=0)
    x = mars_data.to_model_input(images)
    assert x.shape == (2, 2, 2, 1) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :, :, 0], [[0.0, 1.0], [0.2, 0.4]], rtol=1e-6)
    with pytest.raises(ValueError, match="uint8"):
        mars_data.to_model_input(images.astype(np.float32))
    with pytest.raises(ValueError, match=r"shape \(N, H, W\)"):
        mars_data.to_model_input(images[0])


def _with_rocks(n: int, rocks: int) -> MarsData:
    """n images, the first `rocks` of them holding a Big Rock pixel."""
    masks = np.ones((n, 64, 128), dtype=np.uint8)
    masks[:rocks, 0, 0] = BIG_ROCK
    images = np.zeros((n, 64, 128), dtype=np.uint8)
    return MarsData(images, masks, images[:1], None, "hand-made")


def test_split_is_disjoint_complete_seeded_and_stratified() -> None:
    data = _with_rocks(200, 10)
    train, val = mars_data.split(data, val_fraction=0.2, seed=0)
    assert len(val) == 40 and len(train) == 160
    assert not set(train) & set(val) and sorted(np.concatenate([train, val])) == list(range(200))
    assert train.dtype == val.dtype == np.int64
    # Stratified: 10 Big Rock images split 8 / 2, the same share on both sides, for every seed.
    for seed in range(5):
        train, val = mars_data.split(data, 0.2, seed)
        assert (train < 10).sum() == 8 and (val < 10).sum() == 2
    np.testing.assert_array_equal(
        mars_data.split(data, 0.2, 3)[1], mars_data.split(data, 0.2, 3)[1]
    )
    assert not np.array_equal(mars_data.split(data, 0.2, 3)[1], mars_data.split(data, 0.2, 4)[1])


def test_split_without_enough_big_rock_images_is_plain() -> None:
    train, val = mars_data.split(_with_rocks(20, 1), 0.25, seed=1)
    assert len(val) == 5 and len(train) == 15 and not set(train) & set(val)


@pytest.mark.parametrize("fraction", [0.0, 1.0, -0.1, 0.001])
def test_split_refuses_bad_fractions(fraction: float) -> None:
    with pytest.raises(ValueError, match="val_fraction"):
        mars_data.split(_with_rocks(20, 4), fraction)


def test_data_command_generates_describes_and_exports(
    folders: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    from marslib import cli
    from marslib.data import synthetic

    assert cli.main(["data", "generate", "--seed", "2", "--train", "20", "--test", "5"]) == 0
    assert "generated and cached" in capsys.readouterr().out
    assert synthetic.cache_path(2, 20, 5).exists()
    assert cli.main(["data", "generate", "--seed", "2", "--train", "20", "--test", "5"]) == 0
    assert "read from cache" in capsys.readouterr().out

    monkeypatch.setattr(
        mars_data, "synthetic_data", lambda seed=0: mars_data.MarsData(*_tiny_synthetic())
    )
    out = folders / "export.npz"
    assert cli.main(["data", "export", str(out), "--seed", "2"]) == 0
    assert np.load(out)["training_set"].shape == (3, 2, 64, 128)
    assert cli.main(["data", "info", "--path", str(out)]) == 0
    printed = capsys.readouterr().out
    assert f"source        {out}" in printed and "Soil" in printed and "labels unknown" in printed
    # Soil covers every pixel of the tiny set but one column of Bedrock in one image.
    assert "Bedrock             0.26%" in printed
    assert cli.main(["data", "info", "--path", str(out), "--seed", "1"]) == 2


def _tiny_synthetic() -> tuple:
    images = np.zeros((3, 64, 128), dtype=np.uint8)
    masks = np.ones((3, 64, 128), dtype=np.uint8)
    masks[0, :, 0] = 2
    return images, masks, images[:1], masks[:1], "synthetic", {}


def test_the_synthetic_fingerprint_is_its_recipe_not_its_pixel_bits(small: MarsData) -> None:
    changed = MarsData(
        small.train_images ^ 1,
        small.train_masks,
        small.test_images,
        small.test_masks,
        small.source,
        small.meta,
    )
    assert changed.fingerprint == small.fingerprint, "the same recipe names the same data"
    assert small.recipe == {
        **{k: small.meta[k] for k in ("generator", "version", "seed")},
        "n_train": 120,
        "n_test": 30,
    }
    other_seed = MarsData(
        small.train_images,
        small.train_masks,
        small.test_images,
        small.test_masks,
        small.source,
        {**small.meta, "seed": small.meta["seed"] + 1},
    )
    assert other_seed.fingerprint != small.fingerprint
    real = MarsData(small.train_images, small.train_masks, small.test_images, None, "real.npz", {})
    real_changed = MarsData(
        small.train_images ^ 1, small.train_masks, small.test_images, None, "real.npz", {}
    )
    assert real.recipe is None and real.fingerprint != real_changed.fingerprint
