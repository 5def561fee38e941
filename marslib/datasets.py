"""One registry of the report's named training datasets.

A variant turns the training part of the data into the images and masks a model trains on:

    images, masks = marslib.datasets.build("cleaned", data, train_indices, seed=0)

`train_indices` index the original training set (`data.train_images`); a variant only ever
sees those images, so a validation split chosen beforehand cannot leak into training.
Builds are deterministic by seed and cached on disk (see `marslib.core.paths.cache_dir`).

Each builder is a function ``(data, indices, *, seed) -> (images, masks)`` living in the
module that owns its idea (cleaning or augmentation); this table is the single list of names.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import warnings
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from marslib.core import paths, versions
from marslib.core.files import save_arrays

if TYPE_CHECKING:
    from marslib.data import MarsData


@dataclass(frozen=True)
class Variant:
    """A named dataset: where its builder lives, what it is, and its name in a table.

    The builder is named by module and function and imported when first built, so that this
    registry (and every experiment checked against it) loads no augmentation library.
    """

    name: str
    module: str
    function: str
    description: str
    label: str


_CLEANING, _BALANCE = "marslib.data.cleaning", "marslib.augment.balance"
VARIANTS: dict[str, Variant] = {
    v.name: v
    for v in (
        Variant(
            "original", _CLEANING, "original_variant", "the training images as given", "Original"
        ),
        Variant("cleaned", _CLEANING, "cleaned_variant", "the alien outliers removed", "Cleaned"),
        Variant(
            "fixed_monocolor",
            _CLEANING,
            "fixed_monocolor_variant",
            "cleaned, with the reviewed fixes of single-class masks applied",
            "Fixed monocolor",
        ),
        Variant(
            "fixed_bicolor",
            _CLEANING,
            "fixed_bicolor_variant",
            "fixed monocolor, with the reviewed fixes of two-class masks applied",
            "Fixed bicolor",
        ),
        Variant(
            "balanced_bigrock",
            _BALANCE,
            "balanced_bigrock_variant",
            "cleaned plus augmented crops around Big Rock regions",
            "Balanced Big Rocks",
        ),
        Variant(
            "augmented_bigrock_vflip",
            _BALANCE,
            "augmented_bigrock_vflip_variant",
            "augmented BigRock with its copies also flipped upside down at random",
            "Aug. Big Rocks + vflip",
        ),
        Variant(
            "augmented_bigrock_level",
            _BALANCE,
            "augmented_bigrock_level_variant",
            "balanced BigRock plus one copy mirrored left-right and shifted (Albumentations), "
            "the horizon kept level: the book's augmented BigRock",
            "Aug. Big Rocks",
        ),
        Variant(
            "cutmix_bigrock_level",
            _BALANCE,
            "cutmix_bigrock_level_variant",
            "augmented BigRock with as many CutMix images (Big Rock patches pasted in) in place "
            "of its rock crops, then one copy as augmented BigRock's",
            "Aug. CutMix Big Rocks",
        ),
        Variant(
            "oversampled_bigrock_level",
            _BALANCE,
            "oversampled_bigrock_level_variant",
            "augmented BigRock with as many repeated copies of the images holding Big Rock in "
            "place of its rock crops, then one copy as augmented BigRock's",
            "Aug. oversampled Big Rocks",
        ),
        Variant(
            "cutmix_bigrock",
            _BALANCE,
            "cutmix_bigrock_variant",
            "cleaned plus images with Big Rock patches pasted in (CutMix)",
            "CutMix Big Rocks",
        ),
        Variant(
            "oversampled_bigrock",
            _BALANCE,
            "oversampled_bigrock_variant",
            "cleaned plus repeated copies of the images holding Big Rock",
            "Oversampled Big Rocks",
        ),
    )
}


def names() -> list[str]:
    """The known dataset names, in the report's order."""
    return list(VARIANTS)


def get(name: str) -> Variant:
    """The variant called `name`; a ValueError lists the known names otherwise."""
    if name not in VARIANTS:
        raise ValueError(f"unknown dataset variant {name!r}; known variants: {names()}")
    return VARIANTS[name]


def cache_key(
    name: str,
    data: MarsData,
    indices: np.ndarray,
    seed: int,
    code_versions: dict[str, int] | None = None,
) -> str:
    """Short hash (16 hex digits) of what a build depends on: the dataset's name, the data's
    fingerprint, the indices, the seed and the version of the builders' code (default: this
    marslib's, `marslib.core.versions`)."""
    code = code_versions if code_versions is not None else versions.versions(versions.DATASET_PARTS)
    digest = hashlib.sha256()
    digest.update(json.dumps(code, sort_keys=True).encode())
    digest.update(name.encode())
    digest.update(data.fingerprint.encode())
    digest.update(np.ascontiguousarray(indices, dtype=np.int64).tobytes())
    digest.update(str(seed).encode())
    return digest.hexdigest()[:16]


def build(
    name: str,
    data: MarsData,
    indices: np.ndarray | None = None,
    *,
    seed: int = 0,
    cache: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """Build (or load from the cache) the variant `name` of the training images at `indices`.

    Args:
        name: a name from `names()`.
        data: the loaded data set (`marslib.data.load()`).
        indices: int array (K,) of indices into `data.train_images`; None means all of them.
        seed: seed of every random choice the builder makes.
        cache: reuse and write `<cache>/variants/<name>-<key>.npz` (written whole or not at
            all; a cached file that cannot be read is reported in a warning and built again).

    Returns:
        images uint8 (N', 64, 128) and masks uint8 (N', 64, 128) with values 0..4.

    Examples:

    >>> import numpy as np
    >>> from marslib import data, datasets
    >>> tiny = data.synthetic_data(seed=3, n_train=40, n_test=16)
    >>> train_indices = np.arange(30)  # the images a run trains on; the other 10 validate it
    >>> images, masks = datasets.build("cleaned", tiny, train_indices, seed=0)
    >>> images.shape, masks.dtype
    ((30, 64, 128), dtype('uint8'))
    >>> images, masks = datasets.build("balanced_bigrock", tiny, train_indices)
    >>> len(images)  # the 30 images and augmented crops around their Big Rock regions
    36
    >>> datasets.names()[:3]
    ['original', 'cleaned', 'fixed_monocolor']
    """
    variant = get(name)
    if indices is None:
        indices = np.arange(len(data.train_images))
    indices = np.asarray(indices)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(
            f"indices must be a 1-D integer array, got shape {indices.shape} dtype {indices.dtype}"
        )
    if len(indices) and (indices.min() < 0 or indices.max() >= len(data.train_images)):
        raise ValueError(f"indices must lie in 0..{len(data.train_images) - 1}")
    path = paths.cache_dir() / "variants" / f"{name}-{cache_key(name, data, indices, seed)}.npz"
    if cache and path.exists():
        try:
            with np.load(path, allow_pickle=False) as stored:
                return stored["images"], stored["masks"]
        except (zipfile.BadZipFile, EOFError, KeyError, ValueError) as error:
            warnings.warn(
                f"{path}: the cached dataset {name!r} is damaged "
                f"({type(error).__name__}: {error}); building it again",
                stacklevel=2,
            )
    builder = getattr(importlib.import_module(variant.module), variant.function)
    images, masks = builder(data, indices, seed=seed)
    if cache:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_arrays(path, images=images, masks=masks)
    return images, masks
