"""Aliens by identical masks, single- and two-class masks, reviewed label fixes,
the named datasets."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

from marslib.data import cleaning
from marslib.data.cleaning import LabelFixes

H, W = 4, 6


@dataclass
class TinyData:
    """Shaped like `marslib.data.MarsData`, as far as cleaning uses it."""

    train_images: np.ndarray
    train_masks: np.ndarray
    fingerprint: str = "tiny0001"
    source: str = "hand-made"
    meta: dict = field(default_factory=dict)


def _tiny_set() -> tuple[TinyData, np.ndarray]:
    """40 masks: 12 identical multi-class aliens, 15 all-soil masks (a larger identical group),
    4 two-class masks and 9 distinct random masks. Image i is filled with the value i, so an
    image names its own original index. Returns the data and the alien indices."""
    rng = np.random.default_rng(1)
    alien = np.array(
        [[0, 0, 1, 1, 1, 1], [0, 4, 4, 1, 1, 1], [2, 4, 4, 2, 2, 2], [2, 2, 2, 2, 2, 2]],
        dtype=np.uint8,
    )
    masks = np.empty((40, H, W), dtype=np.uint8)
    aliens = np.array([1, 3, 5, 8, 13, 17, 20, 22, 29, 31, 36, 39])
    soil = np.array([0, 2, 4, 6, 7, 9, 10, 11, 12, 14, 15, 16, 18, 19, 21])
    two_class = np.array([23, 24, 25, 26])
    distinct = np.setdiff1d(np.arange(40), np.concatenate([aliens, soil, two_class]))
    masks[aliens] = alien
    masks[soil] = 1
    masks[two_class] = 3
    masks[two_class, :, :2] = 0
    masks[24, :, :2] = 2
    masks[26, :, :2] = 1
    for i in distinct:
        masks[i] = rng.integers(0, 5, size=(H, W))
        masks[i, 0, :5] = np.arange(5)  # every class, so never identical to the alien
    images = np.repeat(np.arange(40, dtype=np.uint8)[:, None, None], H, axis=1).repeat(W, axis=2)
    return TinyData(images, masks), aliens


@pytest.fixture
def tiny() -> TinyData:
    return _tiny_set()[0]


@pytest.fixture
def fixes_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setattr(cleaning, "FIXES_DIR", tmp_path)
    return tmp_path


def test_array_hashes_match_exactly_equal_items() -> None:
    stack = np.array([[[1, 2]], [[1, 2]], [[2, 1]]], dtype=np.uint8)
    digests = cleaning.array_hashes(stack)
    assert digests.shape == (3,) and digests[0] == digests[1] != digests[2]
    with pytest.raises(ValueError, match=r"stack \(N, \.\.\.\)"):
        cleaning.array_hashes(np.zeros(3))


def test_duplicate_groups_largest_first() -> None:
    stack = np.array([[[0]], [[1]], [[0]], [[2]], [[1]], [[1]]], dtype=np.uint8)
    groups = cleaning.duplicate_groups(stack)
    assert [g.tolist() for g in groups] == [[1, 4, 5], [0, 2]]


def test_aliens_are_the_largest_group_of_identical_multi_class_masks(tiny: TinyData) -> None:
    _, planted = _tiny_set()
    # The all-soil masks form a larger identical group; it must not be taken for the aliens.
    assert len(cleaning.duplicate_groups(tiny.train_masks)[0]) == 15
    found = cleaning.alien_indices(tiny.train_masks)
    np.testing.assert_array_equal(found, planted)
    assert found.dtype == np.int64


def test_a_small_group_of_identical_masks_is_not_called_aliens(tiny: TinyData) -> None:
    assert len(cleaning.alien_indices(tiny.train_masks, min_group=13)) == 0
    assert len(cleaning.alien_indices(tiny.train_masks, min_group=12)) == 12
    with pytest.raises(ValueError, match="min_group"):
        cleaning.alien_indices(tiny.train_masks, min_group=1)


def test_aliens_refuse_bad_masks() -> None:
    with pytest.raises(ValueError, match="integer dtype"):
        cleaning.alien_indices(np.zeros((3, 2, 2), dtype=np.float64))
    with pytest.raises(ValueError, match=r"0\.\.4"):
        cleaning.alien_indices(np.full((3, 2, 2), 7, dtype=np.uint8))


def test_cleaned_indices_keep_the_given_order_and_drop_only_aliens(tiny: TinyData) -> None:
    _, planted = _tiny_set()
    given = np.array([39, 0, 5, 26, 2, 13, 30])
    np.testing.assert_array_equal(cleaning.cleaned_indices(tiny, given), [0, 26, 2, 30])
    everything = cleaning.cleaned_indices(tiny, np.arange(40))
    assert len(everything) == 40 - len(planted) and not set(everything) & set(planted)


@pytest.mark.parametrize(
    "bad", [np.array([0, 40]), np.array([-1]), np.array([[0, 1]]), np.array([0.0, 1.0])]
)
def test_bad_indices_are_refused(tiny: TinyData, bad: np.ndarray) -> None:
    with pytest.raises(ValueError, match="indices"):
        cleaning.cleaned_indices(tiny, bad)
    with pytest.raises(ValueError, match="indices"):
        cleaning.original_variant(tiny, bad)


def test_monocolor_and_bicolor_masks(tiny: TinyData) -> None:
    np.testing.assert_array_equal(
        cleaning.monocolor_indices(tiny.train_masks),
        [0, 2, 4, 6, 7, 9, 10, 11, 12, 14, 15, 16, 18, 19, 21],
    )
    np.testing.assert_array_equal(cleaning.bicolor_indices(tiny.train_masks), [23, 24, 25, 26])


def _fixes(data: TinyData) -> LabelFixes:
    return LabelFixes(
        fingerprint=data.fingerprint,
        source=data.source,
        review="made up for the test",
        monocolor={4: 3, 9: 2},
        bicolor={23: {0: 3}, 26: {1: 4}},
    )


def test_fixes_file_round_trip(tmp_path: Path, tiny: TinyData) -> None:
    path = tmp_path / "fixes.json"
    cleaning.write_fixes(path, _fixes(tiny))
    assert cleaning.read_fixes(path) == _fixes(tiny)
    record = json.loads(path.read_text())
    assert record["monocolor"] == {"4": 3, "9": 2} and record["bicolor"]["23"] == {"0": 3}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"format": 2}, "format"),
        ({"review": None}, "missing field"),
        ({"monocolor": {"4": 5}}, r"class label 0\.\.4"),
        ({"monocolor": {"x": 1}}, "digits"),
        ({"monocolor": {"4": True}}, "class label"),
        ({"bicolor": {"23": 3}}, "wrong class: right class"),
        ({"bicolor": {"23": {"9": 1}}}, "class label"),
    ],
)
def test_bad_fixes_files_are_refused(
    tmp_path: Path, tiny: TinyData, change: dict, message: str
) -> None:
    path = tmp_path / "fixes.json"
    cleaning.write_fixes(path, _fixes(tiny))
    record = json.loads(path.read_text())
    record.update(change)
    record = {k: v for k, v in record.items() if v is not None}
    path.write_text(json.dumps(record))
    with pytest.raises(ValueError, match=message):
        cleaning.read_fixes(path)


def test_fixes_are_applied_by_original_index(tiny: TinyData) -> None:
    fixes = _fixes(tiny)
    indices = np.array([26, 9, 23, 0, 4])
    masks = tiny.train_masks[indices]
    mono = cleaning.apply_monocolor_fixes(masks, indices, fixes)
    assert (mono[1] == 2).all() and (mono[4] == 3).all() and (mono[3] == 1).all()
    np.testing.assert_array_equal(mono[[0, 2]], masks[[0, 2]])
    both = cleaning.apply_bicolor_fixes(mono, indices, fixes)
    expected_26 = np.where(masks[0] == 1, 4, masks[0])
    expected_23 = np.where(masks[2] == 0, 3, masks[2])
    np.testing.assert_array_equal(both[0], expected_26)
    np.testing.assert_array_equal(both[2], expected_23)
    assert (both[2] == 3).all(), "image 23 was sand with a background edge: all sand once fixed"
    np.testing.assert_array_equal(
        tiny.train_masks[indices], masks, err_msg="the inputs must not change"
    )


def test_fixes_that_do_not_fit_the_masks_are_refused(tiny: TinyData) -> None:
    wrong_mono = LabelFixes("tiny0001", "hand-made", "test", monocolor={23: 1})
    with pytest.raises(ValueError, match="several classes"):
        cleaning.apply_monocolor_fixes(tiny.train_masks[[23]], np.array([23]), wrong_mono)
    wrong_bi = LabelFixes("tiny0001", "hand-made", "test", bicolor={24: {4: 1}})
    with pytest.raises(ValueError, match="holds classes"):
        cleaning.apply_bicolor_fixes(tiny.train_masks[[24]], np.array([24]), wrong_bi)


def test_fixed_variants_apply_the_reviewed_file(tiny: TinyData, fixes_dir: Path) -> None:
    cleaning.write_fixes(cleaning.fixes_path(tiny), _fixes(tiny))
    assert cleaning.fixes_path(tiny) == fixes_dir / "tiny0001.json"
    indices = np.array([1, 4, 9, 23, 26, 30])
    _, mono = cleaning.fixed_monocolor_variant(tiny, indices, seed=0)
    _, both = cleaning.fixed_bicolor_variant(tiny, indices, seed=0)
    # image 1 is an alien and goes; 4 -> all sand, 9 -> all bedrock;
    # 23 and 26 change only in bicolor
    assert (mono[0] == 3).all() and (mono[1] == 2).all()
    np.testing.assert_array_equal(mono[2:], tiny.train_masks[[23, 26, 30]])
    assert (both[2] == 3).all() and (
        both[3] == np.where(tiny.train_masks[26] == 1, 4, tiny.train_masks[26])
    ).all()


def test_fixes_of_another_data_set_are_refused(tiny: TinyData, fixes_dir: Path) -> None:
    cleaning.write_fixes(cleaning.fixes_path(tiny), LabelFixes("other", "x", "y"))
    with pytest.raises(ValueError, match="belongs to data"):
        cleaning.fixed_monocolor_variant(tiny, np.arange(40))


@pytest.mark.parametrize(
    "builder", [cleaning.fixed_monocolor_variant, cleaning.fixed_bicolor_variant]
)
def test_without_a_fixes_file_the_fixed_variants_equal_cleaned_and_say_so(
    tiny: TinyData, fixes_dir: Path, builder
) -> None:
    with pytest.warns(UserWarning, match=r"tiny0001\.json"):
        images, masks = builder(tiny, np.arange(40), seed=0)
    clean_images, clean_masks = cleaning.cleaned_variant(tiny, np.arange(40), seed=0)
    np.testing.assert_array_equal(images, clean_images)
    np.testing.assert_array_equal(masks, clean_masks)


@pytest.mark.parametrize(
    "builder",
    [
        cleaning.original_variant,
        cleaning.cleaned_variant,
        cleaning.fixed_monocolor_variant,
        cleaning.fixed_bicolor_variant,
    ],
)
def test_variants_never_include_images_outside_the_given_indices(
    tiny: TinyData, fixes_dir: Path, builder
) -> None:
    cleaning.write_fixes(cleaning.fixes_path(tiny), _fixes(tiny))
    given = np.array(
        [0, 1, 2, 3, 4, 23, 30, 33]
    )  # a "training split": 9 and 26 (fixed) are left out
    images, masks = builder(tiny, given, seed=3)
    origins = images[:, 0, 0]  # image i is filled with i
    assert set(origins.tolist()) <= set(given.tolist())
    assert images.dtype == np.uint8 and masks.dtype == np.uint8 and images.shape == masks.shape
    if builder is not cleaning.original_variant:
        assert not set(origins.tolist()) & {1, 3}, "aliens must be gone"


# ---------------------------------------------------------------- on the synthetic Mars set


@pytest.fixture(scope="module")
def mars():
    """The default synthetic set (read from the cache, generated on the first run)."""
    from marslib import data as mars_data

    return mars_data.synthetic_data()


def test_the_110_identical_alien_masks_are_found_on_the_synthetic_set(mars) -> None:
    found = cleaning.alien_indices(mars.train_masks)
    assert len(found) == 110
    assert cleaning.score_against(found, mars.meta["alien_indices"]) == (1.0, 1.0)
    assert len(set(cleaning.array_hashes(mars.train_masks[found]))) == 1, "one identical mask"
    assert len(set(cleaning.array_hashes(mars.train_images[found]))) == 110, (
        "hashing the images finds nothing"
    )
    largest = cleaning.duplicate_groups(mars.train_masks)[0]
    assert len(largest) > 110 and len(np.unique(mars.train_masks[largest[0]])) == 1, (
        "the most frequent mask is a single-class one: "
        "why aliens are looked for among multi-class masks"
    )


def test_the_reviewed_fixes_of_the_synthetic_set_exist_and_fit_it(mars) -> None:
    path = cleaning.fixes_path(mars)
    assert path.exists(), (
        f"no reviewed fixes for the synthetic set {mars.fingerprint}: re-run the audit and review"
    )
    fixes = cleaning.read_fixes(path)
    fixed = np.array(sorted(fixes.monocolor))
    assert not set(fixed) & set(mars.meta["alien_indices"])
    assert (cleaning.monocolor_indices(mars.train_masks[fixed]) == np.arange(len(fixed))).all()
    truth = dict(zip(mars.meta["mislabeled_indices"], mars.meta["mislabeled_true_class"]))
    precision, recall = cleaning.score_against(fixed, list(truth))
    assert precision >= 0.95 and recall >= 0.9
    assert all(fixes.monocolor[i] == truth[i] for i in fixed if i in truth), (
        "a fix must name the true class"
    )


def test_every_synthetic_fixes_file_belongs_to_the_current_generator() -> None:
    """A new generator version re-orders or changes the images: its fixes file is made anew (see
    `marslib.commands.audit`) and the old one goes."""
    from marslib.data import synthetic

    files = sorted(cleaning.FIXES_DIR.glob("synthetic-*.json"))
    assert files, "no reviewed fixes for any synthetic set"
    for path in files:
        assert path.stem.startswith(f"synthetic-v{synthetic.GENERATOR_VERSION}-s"), path.name
        assert cleaning.read_fixes(path).fingerprint == path.stem


def test_variants_of_a_training_split_hold_only_its_images(mars) -> None:
    from marslib import data as mars_data
    from marslib import datasets

    train, val = mars_data.split(mars, seed=0)
    val_hashes = set(cleaning.array_hashes(mars.train_images[val]))
    for name in ("original", "cleaned", "fixed_monocolor", "fixed_bicolor"):
        images, masks = datasets.build(name, mars, train, seed=0, cache=False)
        assert not set(cleaning.array_hashes(images)) & val_hashes, (
            f"{name} leaks validation images"
        )
        expected = len(train) if name == "original" else len(cleaning.cleaned_indices(mars, train))
        assert images.shape == masks.shape == (expected, 64, 128)
    _, fixed = datasets.build("fixed_monocolor", mars, train, cache=False)
    _, clean = datasets.build("cleaned", mars, train, cache=False)
    changed = np.flatnonzero((fixed != clean).any(axis=(1, 2)))
    kept = cleaning.cleaned_indices(mars, train)
    assert set(kept[changed]) == set(
        cleaning.read_fixes(cleaning.fixes_path(mars)).monocolor
    ) & set(train)


def test_fixes_are_keyed_by_generator_for_synthetic_data_and_by_content_otherwise(
    tiny: TinyData,
) -> None:
    assert cleaning.data_key(tiny) == "tiny0001"
    synthetic = TinyData(
        tiny.train_images, tiny.train_masks, source="synthetic", meta={"version": 3, "seed": 7}
    )
    assert cleaning.data_key(synthetic) == f"synthetic-v3-s7-n{len(tiny.train_masks)}"
