"""Loading the Mars terrain data: the real `mars_for_students.npz` or the synthetic stand-in.

    data = marslib.data.load()  # $MARSLIB_DATA, else data/mars_for_students.npz, else synthetic
    data = marslib.data.load("my/copy.npz")
    x = marslib.data.to_model_input(data.train_images)   # float32 (N, 64, 128, 1) in [0, 1]

The real file holds two float arrays: ``training_set`` (N, 2, 64, 128) with the images in
``[:, 0]`` and the masks in ``[:, 1]``, and ``test_set`` (M, 64, 128) without labels. Pixels are
whole numbers 0..255, labels whole numbers 0..4. Everything is checked on the way in; a file
that breaks a rule gets a `ValueError` saying what is wrong and what was expected.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from marslib.core import paths
from marslib.core.classes import IMAGE_SHAPE, NUM_CLASSES
from marslib.data import synthetic

KEYS = ("training_set", "test_set")


@dataclass(frozen=True, repr=False, eq=False)
class MarsData:
    """The training and test data, wherever they came from.

    Attributes:
        train_images: uint8 (N, 64, 128).
        train_masks: uint8 (N, 64, 128), values 0..4.
        test_images: uint8 (M, 64, 128).
        test_masks: uint8 (M, 64, 128), or None when the labels are unknown (the real file).
        source: "synthetic", or the path of the file read.
        meta: the synthetic set's ground truth of its planted traps (see
            `marslib.data.synthetic.SyntheticSet`); empty for a real file.
    """

    train_images: np.ndarray
    train_masks: np.ndarray
    test_images: np.ndarray
    test_masks: np.ndarray | None
    source: str
    meta: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_stack("train_images", self.train_images, uint8=True)
        _check_stack("train_masks", self.train_masks, uint8=True, labels=True)
        _check_stack("test_images", self.test_images, uint8=True)
        if self.train_masks.shape != self.train_images.shape:
            raise ValueError(
                f"train_masks must have the shape of train_images {self.train_images.shape}, "
                f"got {self.train_masks.shape}"
            )
        if self.test_masks is not None:
            _check_stack("test_masks", self.test_masks, uint8=True, labels=True)
            if self.test_masks.shape != self.test_images.shape:
                raise ValueError(
                    f"test_masks must have the shape of test_images {self.test_images.shape}, "
                    f"got {self.test_masks.shape}"
                )

    @property
    def is_synthetic(self) -> bool:
        """True for the generated stand-in, False for a file."""
        return self.source == "synthetic"

    @functools.cached_property
    def fingerprint(self) -> str:
        """A short hash (12 hex digits) that names this data in cache keys and run records.

        The synthetic set's is its recipe (generator, version, seed and sizes), so the records
        made from it match on any machine, even one whose floating point differs in the last
        bits of a pixel; any other data's (the real file) is a content hash of the training
        images, masks and test images.
        """
        recipe = self.recipe
        if recipe is not None:
            return recipe_fingerprint(recipe)
        digest = hashlib.sha1()
        for array in (self.train_images, self.train_masks, self.test_images):
            digest.update(str(array.shape).encode())
            digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()[:12]

    @property
    def recipe(self) -> dict[str, object] | None:
        """How the synthetic set was made (generator, version, seed, sizes); None for other data."""
        keys = ("generator", "version", "seed")
        if self.source != "synthetic" or not all(key in self.meta for key in keys):
            return None
        sizes = {"n_train": len(self.train_images), "n_test": len(self.test_images)}
        return {key: self.meta[key] for key in keys} | sizes

    def __repr__(self) -> str:
        labels = "known" if self.test_masks is not None else "unknown"
        return (
            f"MarsData(source={self.source!r}, train={len(self.train_images)} images, "
            f"test={len(self.test_images)} images (labels {labels}), "
            f"image shape={self.train_images.shape[1:]}, fingerprint={self.fingerprint!r})"
        )


def recipe_fingerprint(recipe: dict[str, object]) -> str:
    """The fingerprint of the synthetic set made by `recipe` (see `MarsData.recipe`), known
    without generating it: e.g. the default set's is that of ``{"generator":
    "marslib.data.synthetic", "version": GENERATOR_VERSION, "seed": 0, "n_train": 2615,
    "n_test": 10022}``."""
    return hashlib.sha1(json.dumps(recipe, sort_keys=True).encode()).hexdigest()[:12]


def default_recipe() -> dict[str, object]:
    """The recipe of the synthetic set `load()` returns without a file (seed 0, the real sizes)."""
    return {
        "generator": "marslib.data.synthetic",
        "version": synthetic.GENERATOR_VERSION,
        "seed": 0,
        "n_train": synthetic.DEFAULT_TRAIN,
        "n_test": synthetic.DEFAULT_TEST,
    }


def _check_stack(
    name: str, array: np.ndarray, *, uint8: bool = False, labels: bool = False
) -> None:
    """Check a stack of pictures (K, 64, 128): rank, shape, not empty; with `uint8`, the dtype;
    with `labels`, values 0..4."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.ndim != 3 or array.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"{name} must have shape (K, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}), got {array.shape}"
        )
    if len(array) == 0:
        raise ValueError(f"{name} is empty: expected at least one picture")
    if uint8 and array.dtype != np.uint8:
        raise ValueError(f"{name} must have dtype uint8, got {array.dtype}")
    if labels and array.max() >= NUM_CLASSES:
        raise ValueError(
            f"{name} must hold class labels 0..{NUM_CLASSES - 1}, got values up to {array.max()}"
        )


# -------------------------------------------------------------- reading and writing the real format


def _whole_numbers(
    name: str, values: np.ndarray, high: int, what: str, *, labels: bool = False
) -> np.ndarray:
    """`values` as uint8 after checking they are finite whole numbers in 0..high (never coerced).

    A fraction among pixel values usually means images already divided by 255, and the error says
    so; among class labels (`labels`, the masks) it is a wrong label, since no one scales a mask,
    and the error names it a fractional class label instead.
    """
    if (
        values.dtype == np.bool_
        or not np.issubdtype(values.dtype, np.number)
        or np.issubdtype(values.dtype, np.complexfloating)
    ):
        raise ValueError(f"{name}: expected real numbers ({what}), got dtype {values.dtype}")
    if np.issubdtype(values.dtype, np.floating):
        if not np.isfinite(values).all():
            raise ValueError(f"{name}: holds NaN or infinite values; expected {what}")
        fractional = values != np.round(values)
        if fractional.any():
            example = f"{values[fractional].flat[0]:g}"
            if labels:
                raise ValueError(
                    f"{name}: holds fractional class labels such as {example} (not whole numbers); "
                    f"expected {what}"
                )
            raise ValueError(
                f"{name}: holds values that are not whole numbers, such as {example}; "
                f"expected {what} (were they scaled to [0, 1]?)"
            )
    low, top = values.min(), values.max()
    if low < 0 or top > high:
        raise ValueError(f"{name}: values lie in {low}..{top}; expected {what}")
    return values.astype(np.uint8)


def from_arrays(training_set: np.ndarray, test_set: np.ndarray, source: str) -> MarsData:
    """Build `MarsData` from the real file's two arrays, checking every rule of the format.

    Args:
        training_set: numbers (N, 2, 64, 128): images 0..255 in [:, 0], masks 0..4 in [:, 1].
        test_set: numbers (M, 64, 128), images 0..255.
        source: where they came from (a path).

    Raises:
        ValueError: wrong rank or shape, an empty set, NaN or infinity, values that are not whole
            numbers, pixels outside 0..255, labels outside 0..4.
    """
    expected_train = f"(N, 2, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]})"
    if training_set.ndim != 4 or training_set.shape[1:] != (2, *IMAGE_SHAPE):
        raise ValueError(
            f"training_set must have shape {expected_train} (images and masks), "
            f"got {training_set.shape}"
        )
    if test_set.ndim != 3 or test_set.shape[1:] != IMAGE_SHAPE:
        raise ValueError(
            f"test_set must have shape (M, {IMAGE_SHAPE[0]}, {IMAGE_SHAPE[1]}), "
            f"got {test_set.shape}"
        )
    if len(training_set) == 0 or len(test_set) == 0:
        raise ValueError(
            f"empty set: training_set has {len(training_set)} images, test_set {len(test_set)}; "
            "expected at least one each"
        )
    images = _whole_numbers(
        "training_set[:, 0] (images)", training_set[:, 0], 255, "pixel values, whole numbers 0..255"
    )
    masks = _whole_numbers(
        "training_set[:, 1] (masks)",
        training_set[:, 1],
        NUM_CLASSES - 1,
        f"class labels, whole numbers 0..{NUM_CLASSES - 1}",
        labels=True,
    )
    test = _whole_numbers("test_set (images)", test_set, 255, "pixel values, whole numbers 0..255")
    return MarsData(images, masks, test, None, source, {})


def read_npz(path: Path | str) -> MarsData:
    """Read a file in the real format (`mars_for_students.npz`); never unpickles anything.

    Raises:
        FileNotFoundError: no such file.
        ValueError: not an .npz archive, keys missing, object arrays,
            or any rule of `from_arrays` broken.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no data file at {path}")
    if not zipfile.is_zipfile(path):
        raise ValueError(
            f"{path} is not an .npz archive (expected numpy's savez format with keys {list(KEYS)})"
        )
    with np.load(path, allow_pickle=False) as npz:
        missing = [key for key in KEYS if key not in npz.files]
        if missing:
            raise ValueError(
                f"{path} lacks the key(s) {missing}; expected {list(KEYS)}, "
                f"found {sorted(npz.files)}"
            )
        try:
            training_set, test_set = npz["training_set"], npz["test_set"]
        except ValueError as error:  # object arrays need pickle, which is never allowed
            raise ValueError(
                f"{path} holds object arrays, which are not read (no pickle): {error}"
            ) from None
    return from_arrays(training_set, test_set, str(path))


def save_npz(data: MarsData, path: Path | str) -> Path:
    """Write `data` in the real file's format: compressed .npz with float64 ``training_set``
    (N, 2, 64, 128) and ``test_set`` (M, 64, 128). Test labels are not written
    (the real file has none).

    Returns:
        the path written.
    """
    path = Path(path)
    if path.suffix != ".npz":
        raise ValueError(f"the file name must end in .npz, got {path.name!r}")
    path.parent.mkdir(parents=True, exist_ok=True)
    training_set = np.stack([data.train_images, data.train_masks], axis=1).astype(np.float64)
    np.savez_compressed(
        path, training_set=training_set, test_set=data.test_images.astype(np.float64)
    )
    return path


# ---------------------------------------------------------------- loading


def synthetic_data(
    seed: int = 0, n_train: int = synthetic.DEFAULT_TRAIN, n_test: int = synthetic.DEFAULT_TEST
) -> MarsData:
    """The synthetic set of this seed and these sizes
    (cached on disk after the first generation)."""
    generated = synthetic.load_or_generate(seed, n_train, n_test)
    return MarsData(
        generated.train_images,
        generated.train_masks,
        generated.test_images,
        generated.test_masks,
        "synthetic",
        generated.meta,
    )


def load(path: Path | str | None = None) -> MarsData:
    """The data the book runs on.

    Looks, in order, at `path`, then `$MARSLIB_DATA`, then `data/mars_for_students.npz` in the
    repository (`marslib.core.paths.default_data_file()`); with none of them, the synthetic set
    (seed 0, the real sizes). A path that is named but does not exist is an error, not a fallback.
    """
    if path is None and os.environ.get("MARSLIB_DATA"):
        path = os.environ["MARSLIB_DATA"]
    if path is None and paths.default_data_file().is_file():
        path = paths.default_data_file()
    if path is None:
        return synthetic_data()
    return read_npz(path)


# ---------------------------------------------------------------- the model's view


def to_model_input(images: np.ndarray) -> np.ndarray:
    """The model's view of images: uint8 (N, 64, 128) -> float32 (N, 64, 128, 1) in [0, 1]."""
    images = np.asarray(images)
    if images.dtype != np.uint8:
        raise ValueError(f"images must have dtype uint8 (pixel values 0..255), got {images.dtype}")
    if images.ndim != 3:
        raise ValueError(f"images must have shape (N, H, W), got {images.shape}")
    return (images.astype(np.float32) / np.float32(255))[..., None]
