"""Cleaning the training set: the alien outliers, single- and two-class masks, reviewed label fixes.

The report's named datasets are built here (see `marslib.datasets`):

- ``original``: the training images as given;
- ``cleaned``: without the alien outliers, the largest group of identical multi-class masks;
- ``fixed_monocolor``: cleaned, with the reviewed fixes of single-class masks applied;
- ``fixed_bicolor``: fixed monocolor, with the reviewed fixes of two-class masks applied.

Label fixes live in one small JSON file per data set, ``marslib/data/label_fixes/<key>.json``,
where the key is `data_key(data)`: the generator's identity for the synthetic set
(``synthetic-v2-s0-n2615``: its planted errors follow from the seed, whatever floating-point
differences between machines do to single pixels), and `MarsData.fingerprint` for a file. It
is written after a person looked at every change::

    {
      "format": 1,
      "fingerprint": "<data_key(data)>",
      "source": "synthetic",
      "review": "how the candidates were found and checked",
      "monocolor": {"<original training index>": <class the whole mask should have>, ...},
      "bicolor": {"<original training index>": {"<wrong class>": <right class>, ...}, ...}
    }

Indices are positions in ``data.train_images`` (the original training set). A ``monocolor`` entry
relabels a single-class mask as a whole; a ``bicolor`` entry relabels the pixels of one class of a
two-class mask (for example ``{"0": 1}``: the pixels marked background are soil). A data set with
no such file (a user's own copy of the real data, say) gets fixed variants equal to the cleaned one,
with a warning naming the missing file. ``python -m marslib audit --out review/`` drafts one from
the candidates of `marslib.data.label_audit`, for a person to review.
"""

from __future__ import annotations

import hashlib
import json
import warnings
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from marslib.core.classes import NUM_CLASSES
from marslib.data import stats

if TYPE_CHECKING:
    from marslib.data import MarsData

FIXES_DIR = Path(__file__).resolve().parent / "label_fixes"
FIXES_FORMAT = 1
MIN_ALIEN_GROUP = 10


# ---------------------------------------------------------------- identical masks and the aliens


def array_hashes(arrays: np.ndarray) -> np.ndarray:
    """A content hash of each item of a stack of arrays (masks or images).

    Args:
        arrays: array (N, ...) of any dtype; two items get the same hash exactly when their
            values, dtype and shape are the same.

    Returns:
        str array (N,) of SHA-1 hex digests.
    """
    arrays = np.asarray(arrays)
    if arrays.ndim < 2:
        raise ValueError(f"arrays must be a stack (N, ...), got shape {arrays.shape}")
    return np.array(
        [hashlib.sha1(np.ascontiguousarray(item).tobytes()).hexdigest() for item in arrays]
    )


def duplicate_groups(arrays: np.ndarray) -> list[np.ndarray]:
    """Groups of items that are exactly identical, largest group first.

    Args:
        arrays: array (N, ...), e.g. masks uint8 (N, 64, 128).

    Returns:
        list of int64 arrays of indices into `arrays`, each of length >= 2, sorted by
        decreasing size (ties: by first index).
    """
    groups: dict[str, list[int]] = defaultdict(list)
    for index, digest in enumerate(array_hashes(arrays)):
        groups[digest].append(index)
    found = [np.array(members, dtype=np.int64) for members in groups.values() if len(members) >= 2]
    return sorted(found, key=lambda members: (-len(members), members[0]))


def alien_indices(masks: np.ndarray, *, min_group: int = MIN_ALIEN_GROUP) -> np.ndarray:
    """The alien outliers: the largest group of identical masks holding two classes or more.

    Single-class masks are left out: every all-soil mask is identical to every other, so the
    most frequent mask of a data set with many of them is "all soil", not the alien.

    Args:
        masks: integer array (N, H, W) with values 0..4.
        min_group: a largest group smaller than this is not reported (a few identical masks
            can be honest duplicates); then the result is empty.

    Returns:
        int64 array of indices into `masks`, sorted.
    """
    masks = stats.check_masks(masks)
    if min_group < 2:
        raise ValueError(f"min_group must be at least 2, got {min_group}")
    multi_class = np.flatnonzero(stats.classes_per_image(masks) >= 2)
    groups = duplicate_groups(masks[multi_class])
    if not groups or len(groups[0]) < min_group:
        return np.array([], dtype=np.int64)
    return np.sort(multi_class[groups[0]])


def _check_indices(data: MarsData, indices: np.ndarray) -> np.ndarray:
    indices = np.asarray(indices)
    if indices.ndim != 1 or not np.issubdtype(indices.dtype, np.integer):
        raise ValueError(
            f"indices must be a 1-D integer array, got shape {indices.shape} dtype {indices.dtype}"
        )
    count = len(data.train_images)
    if len(indices) and (indices.min() < 0 or indices.max() >= count):
        raise ValueError(
            f"indices must lie in 0..{count - 1}, got values in {indices.min()}..{indices.max()}"
        )
    return indices.astype(np.int64)


def cleaned_indices(data: MarsData, indices: np.ndarray) -> np.ndarray:
    """`indices` without the aliens (found on the whole training set), in their given order.

    Args:
        data: the loaded data set.
        indices: int array (K,) of indices into `data.train_images`.

    Returns:
        int64 array (K',), a subsequence of `indices`.
    """
    indices = _check_indices(data, indices)
    return indices[~np.isin(indices, alien_indices(data.train_masks))]


def score_against(found: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    """Precision and recall of a set of flagged indices against the known problem indices.

    Args:
        found: int array of the indices a method flagged.
        truth: int array of the indices that truly have the problem
            (e.g. ``data.meta["alien_indices"]``).

    Returns:
        (precision, recall): the share of `found` that is in `truth`, and the share of `truth`
        that was found; NaN where the denominator is empty (nothing found, or nothing to find).
    """
    found_set, truth_set = (
        set(np.asarray(found).ravel().tolist()),
        set(np.asarray(truth).ravel().tolist()),
    )
    hits = len(found_set & truth_set)
    precision = hits / len(found_set) if found_set else float("nan")
    recall = hits / len(truth_set) if truth_set else float("nan")
    return precision, recall


# ---------------------------------------------------------------- single- and two-class masks


def monocolor_indices(masks: np.ndarray) -> np.ndarray:
    """Positions of the masks that hold a single class.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array of indices into `masks`, sorted.
    """
    return np.flatnonzero(stats.classes_per_image(masks) == 1).astype(np.int64)


def bicolor_indices(masks: np.ndarray) -> np.ndarray:
    """Positions of the masks that hold exactly two classes.

    Args:
        masks: integer array (N, H, W) with values 0..4.

    Returns:
        int64 array of indices into `masks`, sorted.
    """
    return np.flatnonzero(stats.classes_per_image(masks) == 2).astype(np.int64)


# ---------------------------------------------------------------- reviewed label fixes


@dataclass(frozen=True)
class LabelFixes:
    """Reviewed label fixes of one data set (the JSON file described in the module docstring).

    Attributes:
        fingerprint: `data_key` of the data set they belong to.
        source: "synthetic" or a description of the file.
        review: how the candidates were found and checked.
        monocolor: original training index -> the class the whole mask should have.
        bicolor: original training index -> {wrong class: right class}.
    """

    fingerprint: str
    source: str
    review: str
    monocolor: dict[int, int] = field(default_factory=dict)
    bicolor: dict[int, dict[int, int]] = field(default_factory=dict)


def data_key(data: MarsData) -> str:
    """The name reviewed fixes are kept under: ``synthetic-v<version>-s<seed>-n<train images>`` for
    the synthetic set, whose planted errors are fixed by its generator and seed,
    else `data.fingerprint`."""
    meta = data.meta
    if data.source == "synthetic" and "version" in meta and "seed" in meta:
        return f"synthetic-v{meta['version']}-s{meta['seed']}-n{len(data.train_masks)}"
    return data.fingerprint


def fixes_path(data: MarsData) -> Path:
    """Where the reviewed fixes of `data` are kept:
    ``marslib/data/label_fixes/<data_key(data)>.json``."""
    return FIXES_DIR / f"{data_key(data)}.json"


def _label(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < NUM_CLASSES:
        raise ValueError(f"{what} must be a class label 0..{NUM_CLASSES - 1}, got {value!r}")
    return value


def _index(key: str, what: str) -> int:
    if not key.isdigit():
        raise ValueError(f"{what} keys must be training indices written as digits, got {key!r}")
    return int(key)


def read_fixes(path: Path | str) -> LabelFixes:
    """Read and validate a label fixes file.

    Raises:
        ValueError: a wrong format number, a missing field, or an entry that is not
            index -> class (monocolor) or index -> {class: class} (bicolor).
    """
    path = Path(path)
    record = json.loads(path.read_text())
    if not isinstance(record, dict) or record.get("format") != FIXES_FORMAT:
        raise ValueError(f'{path}: expected a JSON object with "format": {FIXES_FORMAT}')
    missing = [
        key
        for key in ("fingerprint", "source", "review", "monocolor", "bicolor")
        if key not in record
    ]
    if missing:
        raise ValueError(f"{path}: missing field(s) {missing}")
    monocolor = {
        _index(k, "monocolor"): _label(v, f"monocolor[{k}]") for k, v in record["monocolor"].items()
    }
    bicolor: dict[int, dict[int, int]] = {}
    for key, rule in record["bicolor"].items():
        if not isinstance(rule, dict) or not rule:
            raise ValueError(
                f"{path}: bicolor[{key}] must be a non-empty {{wrong class: right class}} object"
            )
        bicolor[_index(key, "bicolor")] = {
            _label(_index(wrong, f"bicolor[{key}]"), f"bicolor[{key}] wrong class"): _label(
                right, f"bicolor[{key}][{wrong}]"
            )
            for wrong, right in rule.items()
        }
    return LabelFixes(record["fingerprint"], record["source"], record["review"], monocolor, bicolor)


def write_fixes(path: Path | str, fixes: LabelFixes) -> None:
    """Write `fixes` in the documented JSON format (sorted keys, one entry a line)."""
    record = {
        "format": FIXES_FORMAT,
        "fingerprint": fixes.fingerprint,
        "source": fixes.source,
        "review": fixes.review,
        "monocolor": {str(i): int(c) for i, c in sorted(fixes.monocolor.items())},
        "bicolor": {
            str(i): {str(w): int(r) for w, r in sorted(rule.items())}
            for i, rule in sorted(fixes.bicolor.items())
        },
    }
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(json.dumps(record, indent=1) + "\n")


def load_fixes(data: MarsData) -> LabelFixes | None:
    """The reviewed fixes of `data`, or None (with a warning naming the file)
    when there are none."""
    path = fixes_path(data)
    if not path.exists():
        warnings.warn(
            f"no reviewed label fixes for this data set ({data.source}): {path} does not exist, "
            "so the fixed variants equal the cleaned one",
            stacklevel=3,
        )
        return None
    fixes = read_fixes(path)
    if fixes.fingerprint != data_key(data):
        raise ValueError(f"{path} belongs to data {fixes.fingerprint!r}, not to {data_key(data)!r}")
    return fixes


def apply_monocolor_fixes(masks: np.ndarray, indices: np.ndarray, fixes: LabelFixes) -> np.ndarray:
    """Relabel the single-class masks that `fixes` corrects.

    Args:
        masks: uint8 (K, H, W), the masks of the training images `indices`.
        indices: int array (K,) of original training indices, one per mask.
        fixes: the reviewed fixes; entries for indices not in `indices` are skipped.

    Returns:
        a corrected copy of `masks`.

    Raises:
        ValueError: a fix names a mask that is not single-class (the file does not fit the data).
    """
    fixed = np.array(masks, copy=True)
    for position, index in enumerate(np.asarray(indices)):
        if int(index) in fixes.monocolor:
            if len(np.unique(fixed[position])) != 1:
                raise ValueError(
                    f"monocolor fix for training image {index}, whose mask holds several classes"
                )
            fixed[position] = fixes.monocolor[int(index)]
    return fixed


def apply_bicolor_fixes(masks: np.ndarray, indices: np.ndarray, fixes: LabelFixes) -> np.ndarray:
    """Relabel one class of the two-class masks that `fixes` corrects.

    Args:
        masks: uint8 (K, H, W), the masks of the training images `indices`.
        indices: int array (K,) of original training indices, one per mask.
        fixes: the reviewed fixes; entries for indices not in `indices` are skipped.

    Returns:
        a corrected copy of `masks`.

    Raises:
        ValueError: a fix names a mask that is not two-class, or a class the mask does not hold.
    """
    fixed = np.array(masks, copy=True)
    for position, index in enumerate(np.asarray(indices)):
        rule = fixes.bicolor.get(int(index))
        if rule is None:
            continue
        original = fixed[position].copy()
        held = set(np.unique(original).tolist())
        if len(held) != 2 or not set(rule) <= held:
            raise ValueError(
                f"bicolor fix {rule} for training image {index}, "
                f"whose mask holds classes {sorted(held)}"
            )
        for wrong, right in rule.items():
            fixed[position][original == wrong] = right
    return fixed


# ---------------------------------------------------------------- the report's named datasets


def original_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The training images at `indices` as given (`seed` is unused: nothing is random).

    Returns:
        images uint8 (K, 64, 128) and masks uint8 (K, 64, 128).
    """
    indices = _check_indices(data, indices)
    return data.train_images[indices], data.train_masks[indices]


def cleaned_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """The training images at `indices` without the aliens.

    Returns:
        images uint8 (K', 64, 128) and masks uint8 (K', 64, 128).
    """
    kept = cleaned_indices(data, indices)
    return data.train_images[kept], data.train_masks[kept]


def fixed_monocolor_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Cleaned, with the reviewed single-class fixes applied
    (cleaned, with a warning, if there are none).

    Returns:
        images uint8 (K', 64, 128) and masks uint8 (K', 64, 128).
    """
    kept = cleaned_indices(data, indices)
    fixes = load_fixes(data)
    masks = data.train_masks[kept]
    if fixes is not None:
        masks = apply_monocolor_fixes(masks, kept, fixes)
    return data.train_images[kept], masks


def fixed_bicolor_variant(
    data: MarsData, indices: np.ndarray, *, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Fixed monocolor, with the reviewed two-class fixes applied too.

    Returns:
        images uint8 (K', 64, 128) and masks uint8 (K', 64, 128).
    """
    kept = cleaned_indices(data, indices)
    fixes = load_fixes(data)
    masks = data.train_masks[kept]
    if fixes is not None:
        masks = apply_bicolor_fixes(apply_monocolor_fixes(masks, kept, fixes), kept, fixes)
    return data.train_images[kept], masks
