"""The synthetic Mars set: format, the real file's statistics,
the planted traps, determinism, cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from marslib.core.classes import BACKGROUND, BIG_ROCK, NUM_CLASSES, SAND, SOIL
from marslib.data import synthetic

# The real file's numbers (facts: 2505 cleaned images) and the tolerances the generator promises.
REAL_SHARES = np.array([24.31, 33.90, 23.28, 18.38, 0.13])  # % of the pixels, aliens removed
SHARE_TOLERANCE = np.array([1.0, 1.0, 1.0, 1.0, 0.04])  # percentage points
REAL_BIG_ROCK_IMAGES, BIG_ROCK_TOLERANCE = 2.4, 0.5  # % of the images
REAL_BACKGROUND_IMAGES, BACKGROUND_TOLERANCE = 79.8, 2.0
REAL_SINGLE_CLASS, SINGLE_CLASS_TOLERANCE = 425 / 2505 * 100, 1.5


@pytest.fixture(scope="module")
def full() -> synthetic.SyntheticSet:
    """The default set (2615 + 10022 images), generated once for this module, without the cache."""
    return synthetic.generate()


def _without_aliens(generated: synthetic.SyntheticSet) -> np.ndarray:
    keep = np.setdiff1d(np.arange(len(generated.train_masks)), generated.meta["alien_indices"])
    return generated.train_masks[keep]


def _presence(masks: np.ndarray) -> np.ndarray:
    """bool (N, 5): which classes each mask holds."""
    return np.stack([(masks == c).any(axis=(1, 2)) for c in range(NUM_CLASSES)], axis=1)


def test_format_of_the_default_set(full: synthetic.SyntheticSet) -> None:
    assert full.train_images.shape == full.train_masks.shape == (2615, 64, 128)
    assert full.test_images.shape == full.test_masks.shape == (10022, 64, 128)
    for array in (full.train_images, full.train_masks, full.test_images, full.test_masks):
        assert array.dtype == np.uint8
    assert full.train_masks.max() == full.test_masks.max() == BIG_ROCK
    assert full.meta["n_train"] == 2615 and full.meta["n_test"] == 10022 and full.meta["seed"] == 0


def test_pixel_shares_match_the_real_file(full: synthetic.SyntheticSet) -> None:
    masks = _without_aliens(full)
    assert len(masks) == 2505
    shares = 100 * np.bincount(masks.ravel(), minlength=NUM_CLASSES) / masks.size
    assert np.all(np.abs(shares - REAL_SHARES) <= SHARE_TOLERANCE), shares


def test_image_level_statistics_match_the_real_file(full: synthetic.SyntheticSet) -> None:
    present = _presence(_without_aliens(full))
    # Big Rock and background counted over all 2615 images, as facts.md does.
    everything = _presence(full.train_masks)
    assert abs(100 * everything[:, BIG_ROCK].mean() - REAL_BIG_ROCK_IMAGES) <= BIG_ROCK_TOLERANCE
    assert (
        abs(100 * everything[:, BACKGROUND].mean() - REAL_BACKGROUND_IMAGES) <= BACKGROUND_TOLERANCE
    )
    assert (
        abs(100 * (present.sum(axis=1) == 1).mean() - REAL_SINGLE_CLASS) <= SINGLE_CLASS_TOLERANCE
    )
    # Few Big Rock images, but a sizeable rock in each: a few hundred pixels on average.
    rock_pixels = (full.train_masks == BIG_ROCK).sum(axis=(1, 2))
    assert 150 <= rock_pixels[rock_pixels > 0].mean() <= 1000


def test_test_set_statistics_are_alike_and_free_of_aliens(full: synthetic.SyntheticSet) -> None:
    shares = (
        100 * np.bincount(full.test_masks.ravel(), minlength=NUM_CLASSES) / full.test_masks.size
    )
    assert np.all(np.abs(shares - REAL_SHARES) <= 1.5 * SHARE_TOLERANCE), shares
    multi = _presence(full.test_masks).sum(axis=1) >= 2
    _, counts = np.unique(
        full.test_masks[multi].reshape(multi.sum(), -1), axis=0, return_counts=True
    )
    assert counts.max() < 5


def test_the_110_aliens_share_one_identical_mask_but_not_their_images(
    full: synthetic.SyntheticSet,
) -> None:
    aliens = np.array(full.meta["alien_indices"])
    assert len(aliens) == len(set(aliens.tolist())) == 110
    alien_masks = full.train_masks[aliens]
    assert (alien_masks == alien_masks[0]).all()
    assert len(np.unique(alien_masks[0])) >= 2
    # Independently: the largest group of identical multi-class masks is exactly the aliens.
    multi = np.flatnonzero(_presence(full.train_masks).sum(axis=1) >= 2)
    unique, inverse, counts = np.unique(
        full.train_masks[multi].reshape(len(multi), -1),
        axis=0,
        return_inverse=True,
        return_counts=True,
    )
    np.testing.assert_array_equal(np.sort(multi[inverse.ravel() == counts.argmax()]), aliens)
    # Hashing the images does not find them: every alien picture differs.
    assert len(np.unique(full.train_images[aliens].reshape(len(aliens), -1), axis=0)) == len(aliens)


def test_the_real_size_set_has_its_aliens_at_the_real_files_indices(
    full: synthetic.SyntheticSet,
) -> None:
    assert full.meta["alien_indices"] == list(synthetic.REAL_ALIEN_INDICES)
    # The course's search: every mask equal to the known alien y_train[62].
    same_as_62 = np.flatnonzero((full.train_masks == full.train_masks[62]).all(axis=(1, 2)))
    np.testing.assert_array_equal(same_as_62, synthetic.REAL_ALIEN_INDICES)


def test_the_real_alien_indices_are_110_distinct_positions_of_the_real_set() -> None:
    real = np.array(synthetic.REAL_ALIEN_INDICES)
    assert len(real) == synthetic.REAL_ALIENS == synthetic.default_alien_count(2615) == 110
    assert real[0] == 62 and real[-1] == 2614 == synthetic.DEFAULT_TRAIN - 1
    assert np.all(np.diff(real) > 0)


@pytest.mark.parametrize("n_train", [40, 200, 2614, 2616])
def test_other_sizes_keep_the_random_placement(n_train: int) -> None:
    """Outside the real size every image, aliens included, lands at a random position: a
    shuffle of all positions, fixed by the seed, that moves the aliens off the end."""
    n_aliens = synthetic.default_alien_count(n_train)
    placed = synthetic._place(np.random.default_rng(n_train), n_train, n_aliens)
    assert sorted(placed.tolist()) == list(range(n_train))  # each image exactly once
    again = synthetic._place(np.random.default_rng(n_train), n_train, n_aliens)
    np.testing.assert_array_equal(placed, again)
    other = synthetic._place(np.random.default_rng(n_train + 1), n_train, n_aliens)
    assert not np.array_equal(placed, other)
    # Shuffled, not in generation order: few images keep their own position (about 1 expected).
    assert np.count_nonzero(placed == np.arange(n_train)) <= max(3, n_train // 100)
    alien_positions = set(np.flatnonzero(placed >= n_train - n_aliens).tolist())
    assert alien_positions != set(range(n_train - n_aliens, n_train))


def test_the_real_size_placement_moves_the_aliens_and_keeps_both_groups_in_order() -> None:
    """Same permutation as version 1, then aliens to the real indices: the pictures stay the
    same, and so does the order of the normal scenes among themselves."""
    n, aliens = synthetic.DEFAULT_TRAIN, synthetic.REAL_ALIENS
    placed = synthetic._place(np.random.default_rng(0), n, aliens)
    shuffled = np.random.default_rng(0).permutation(n)
    assert sorted(placed.tolist()) == list(range(n))
    slots = np.flatnonzero(placed >= n - aliens)
    np.testing.assert_array_equal(slots, synthetic.REAL_ALIEN_INDICES)
    np.testing.assert_array_equal(placed[placed < n - aliens], shuffled[shuffled < n - aliens])
    np.testing.assert_array_equal(placed[slots], shuffled[shuffled >= n - aliens])


def test_small_sets_scatter_their_aliens_by_seed() -> None:
    first, other = synthetic.generate(3, 60, 4), synthetic.generate(4, 60, 4)
    assert first.meta["alien_indices"] != other.meta["alien_indices"]
    for generated in (first, other):
        aliens = generated.meta["alien_indices"]
        masks = generated.train_masks
        assert (masks[aliens] == masks[aliens[0]]).all()


def test_mislabeled_single_class_masks(full: synthetic.SyntheticSet) -> None:
    meta = full.meta
    indices, true, given = (
        np.array(meta[k])
        for k in ("mislabeled_indices", "mislabeled_true_class", "mislabeled_given_class")
    )
    assert len(indices) == len(true) == len(given) > 20
    assert np.all(true != given) and set(true) <= {1, 2, 3} and set(given) <= {1, 2, 3}
    assert not set(indices.tolist()) & set(meta["alien_indices"])
    for index, label in zip(indices, given):
        assert (full.train_masks[index] == label).all()


def test_coarse_masks_have_their_region_edges_turned_to_background(
    full: synthetic.SyntheticSet,
) -> None:
    coarse = np.array(full.meta["coarse_indices"])
    assert 300 <= len(coarse) <= 1000

    def terrain_classes_touch(mask: np.ndarray) -> bool:
        pairs = [(mask[1:], mask[:-1]), (mask[:, 1:], mask[:, :-1])]
        return any(((a != b) & (a != BACKGROUND) & (b != BACKGROUND)).any() for a, b in pairs)

    assert not any(terrain_classes_touch(full.train_masks[i]) for i in coarse)
    others = np.setdiff1d(
        np.flatnonzero(_presence(full.train_masks)[:, 1:].sum(axis=1) >= 2), coarse
    )
    others = np.setdiff1d(others, full.meta["alien_indices"])
    touching = np.mean([terrain_classes_touch(full.train_masks[i]) for i in others])
    assert touching > 0.9


def test_grey_levels_alone_do_not_tell_the_terrain_classes_apart(
    full: synthetic.SyntheticSet,
) -> None:
    """The best rule "grey level -> class" barely beats always answering soil."""
    masks = full.train_masks
    terrain = (masks >= SOIL) & (masks <= SAND)
    levels, labels = full.train_images[terrain].astype(np.int64), masks[terrain].astype(np.int64)
    table = np.bincount(levels * NUM_CLASSES + labels, minlength=256 * NUM_CLASSES).reshape(
        256, NUM_CLASSES
    )
    best_rule_accuracy = table.max(axis=1).sum() / table.sum()
    majority = np.bincount(labels).max() / len(labels)
    assert best_rule_accuracy < majority + 0.12, (best_rule_accuracy, majority)


def test_ground_metres_per_pixel_grow_toward_the_horizon() -> None:
    """Perspective: a pixel covers more ground far away,
    so textures mapped on the ground get finer there."""
    plan = {"horizon": np.array([10.0, -40.0])}
    ys, xs = np.arange(64) + 0.5, np.arange(128) + 0.5
    lateral, distance = synthetic._ground(plan, ys, xs)
    metres_per_column = np.diff(lateral, axis=2)[:, :, 0]
    assert np.all(np.diff(distance[0, 11:, 0]) < 0) and np.all(np.diff(distance[1, :, 0]) < 0)
    assert np.all(np.diff(metres_per_column[0, 11:]) < 0)
    np.testing.assert_allclose(distance[0, 30, 0], synthetic.CAMERA_K / (30.5 - 10.0), rtol=1e-6)
    assert np.all(distance[0, :10, 0] == 300.0)  # above the horizon: the far cap


def test_same_seed_same_arrays_other_seed_other_arrays() -> None:
    first, again, other = (
        synthetic.generate(3, 40, 12),
        synthetic.generate(3, 40, 12),
        synthetic.generate(4, 40, 12),
    )
    for name in ("train_images", "train_masks", "test_images", "test_masks"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
        assert not np.array_equal(getattr(first, name), getattr(other, name))
    assert first.meta == again.meta
    # The training images do not depend on the size of the test set.
    np.testing.assert_array_equal(synthetic.generate(3, 40, 5).train_images, first.train_images)


def test_meta_is_json_serialisable_and_consistent() -> None:
    import json

    generated = synthetic.generate(5, 60, 10)
    assert json.loads(json.dumps(generated.meta)) == generated.meta
    assert len(generated.meta["alien_indices"]) == synthetic.default_alien_count(60) == 10
    assert max(generated.meta["alien_indices"]) < 60


def test_default_alien_count() -> None:
    assert synthetic.default_alien_count(2615) == 110
    assert synthetic.default_alien_count(100) == 10
    assert synthetic.default_alien_count(20) == 4


@pytest.mark.parametrize(
    "arguments", [(-1, 50, 10), (0, 5, 10), (0, 50, 0), (0, 50.0, 10), (True, 50, 10)]
)
def test_bad_sizes_are_refused(arguments: tuple) -> None:
    with pytest.raises(ValueError, match="must be an integer"):
        synthetic.generate(*arguments)


def test_cache_is_written_once_and_read_back(
    folders: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = synthetic.load_or_generate(6, 30, 8)
    path = synthetic.cache_path(6, 30, 8)
    assert path.parent == folders / "cache" and path.exists()
    with np.load(path, allow_pickle=False) as npz:
        assert npz["train_images"].dtype == npz["train_masks"].dtype == np.uint8

    def no_generation(*args: object) -> None:
        raise AssertionError("the cached set should have been read")

    monkeypatch.setattr(synthetic, "generate", no_generation)
    cached = synthetic.load_or_generate(6, 30, 8)
    np.testing.assert_array_equal(cached.train_images, made.train_images)
    np.testing.assert_array_equal(cached.test_masks, made.test_masks)
    assert cached.meta == made.meta
    assert synthetic.cache_path(6, 30, 9) != path


def test_benchmark_refuses_an_unknown_scale() -> None:
    from marslib.bench import data as data_bench

    with pytest.raises(ValueError, match="scale"):
        data_bench.benchmark("huge")
