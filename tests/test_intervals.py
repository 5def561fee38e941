"""Intervals of a gap between recipes: checked against scipy's Welch interval, hand-computed
cases and an exact enumeration of a two-image bootstrap."""

from __future__ import annotations

import itertools
import math
from types import SimpleNamespace

import numpy as np
import pytest
from scipy import stats

from marslib import metrics
from marslib.analysis import intervals


def _record(name: str, seed: int, **per_image: np.ndarray) -> SimpleNamespace:
    """A stand-in for a RunRecord: its name and seed, and its per-image confusion matrices."""
    return SimpleNamespace(
        experiment=SimpleNamespace(name=name, seed=seed), per_image=lambda: per_image
    )


def test_batch_scores_agree_with_the_metric_on_every_matrix() -> None:
    rng = np.random.default_rng(0)
    confusions = rng.integers(0, 50, size=(7, 5, 5))
    confusions[3, 4, :] = 0  # Big Rock absent from the truth ...
    confusions[3, :, 4] = 0  # ... and never predicted: its IoU is 1
    ious = np.array([metrics.iou_from_confusion(c) for c in confusions])
    assert intervals.batch_scores(confusions) == pytest.approx(ious.mean(axis=1))
    assert intervals.batch_scores(confusions, "Big Rock") == pytest.approx(ious[:, 3])
    assert intervals.batch_scores(confusions, "Big Rock")[3] == 1.0
    with pytest.raises(ValueError, match="unknown score 'Rock'"):
        intervals.batch_scores(confusions, "Rock")
    five = [metrics.confusion_scores(c, 1, background=True)["background"] for c in confusions]
    assert intervals.batch_scores(confusions, intervals.FIVE_CLASS) == pytest.approx(
        [found["5-class mIoU"] for found in five]
    )


def test_without_image_variance_the_interval_is_welchs() -> None:
    a, b = [0.61, 0.64, 0.60, 0.66], [0.58, 0.57, 0.63]
    found = intervals.from_scores(a, b)
    welch = stats.ttest_ind(a, b, equal_var=False).confidence_interval(0.95)
    assert (found.low, found.high) == pytest.approx((welch.low, welch.high), abs=1e-12)
    assert found.gap == pytest.approx(np.mean(a) - np.mean(b))


def test_a_hand_computed_interval() -> None:
    # Seed SD 0.02 on each side, three seeds: seed SE sqrt(2 * 0.0004 / 3) = 0.016330, Welch's
    # degrees of freedom (0.0002667)^2 / (2 * 0.0001333^2 / 2) = 4, t(0.975, 4) = 2.776445,
    # half-width 0.045339: the gap 0.10 lies in 0.0547 .. 0.1453, above zero.
    found = intervals.from_scores([0.60, 0.62, 0.64], [0.50, 0.52, 0.54])
    assert found.seed_se == pytest.approx(0.0163299, abs=1e-6)
    assert found.dof == pytest.approx(4.0)
    assert (found.low, found.high) == pytest.approx((0.054661, 0.145339), abs=1e-5)
    assert found.verdict == "ahead"
    assert found.describe() == "+0.100 (95% interval +0.055 to +0.145): ahead"
    behind = intervals.from_scores([0.50, 0.52, 0.54], [0.60, 0.62, 0.64])
    assert behind.verdict == "behind"


def test_a_gap_inside_the_seed_spread_cannot_tell() -> None:
    # Means 0.6233 and 0.6067: a gap of 0.017 against seed SDs of 0.025 and 0.025.
    found = intervals.from_scores([0.60, 0.65, 0.62], [0.61, 0.58, 0.63])
    assert found.low < 0 < found.high and found.verdict == "cannot tell"
    assert found.describe().endswith(": cannot tell")
    # The image part widens the interval, never narrows it.
    wider = intervals.from_scores([0.60, 0.65, 0.62], [0.61, 0.58, 0.63], image_variance=1e-4)
    assert wider.high - wider.low > found.high - found.low


def test_one_seed_on_a_side_cannot_tell_however_large_the_gap() -> None:
    found = intervals.from_scores([0.9], [0.1, 0.12, 0.11])
    assert math.isnan(found.low) and found.verdict == "cannot tell"
    assert found.describe() == "+0.790 (one seed: no interval): cannot tell"


def _image(soil_right: int, soil_wrong: int) -> np.ndarray:
    """One image's confusion: soil pixels, some predicted as bedrock; one pixel of each other
    class, right."""
    confusion = np.diag([0, 0, 1, 1, 1]).astype(np.uint16)
    confusion[1, 1], confusion[1, 2] = soil_right, soil_wrong
    return confusion


def test_the_image_bootstrap_matches_an_exact_enumeration() -> None:
    # Two images; recipe A is good on the first, B on the second. Every bootstrap sample of two
    # images is one of (first, first), (first, second), (second, second), with chances 1/4,
    # 1/2, 1/4: the exact variance of the gap over them is the bootstrap's limit.
    a = np.stack([_image(90, 10), _image(40, 60)])
    b = np.stack([_image(60, 40), _image(80, 20)])
    records_a = [_record("a", s, test=a) for s in range(2)]
    records_b = [_record("b", s, test=b) for s in range(2)]
    gaps, chances = [], []
    for draw in itertools.product([0, 1], repeat=2):
        picked = list(draw)
        gaps.append(
            intervals.batch_scores(a[picked].sum(axis=0).astype(float))
            - intervals.batch_scores(b[picked].sum(axis=0).astype(float))
        )
        chances.append(0.25)
    gaps, chances = np.array(gaps), np.array(chances)
    exact = float(np.sum(chances * gaps**2) - np.sum(chances * gaps) ** 2)
    found = intervals.gap(records_a, records_b, "test", resamples=40_000, seed=1)
    assert found.image_se**2 == pytest.approx(exact, rel=0.03)
    # Identical seeds: no seed spread, so the interval is the image part alone (t at infinite
    # degrees of freedom is the normal quantile).
    assert found.seed_se == 0 and math.isinf(found.dof)
    assert found.high - found.gap == pytest.approx(1.959964 * found.image_se)


def test_the_gap_of_records_scores_their_summed_images() -> None:
    first, second = _image(90, 10), _image(40, 60)
    records_a = [
        _record("a", 0, val=np.stack([first, second])),
        _record("a", 1, val=np.stack([second, second])),
    ]
    records_b = [_record("b", s, val=np.stack([second, first])) for s in range(3)]
    found = intervals.gap(records_a, records_b, "val", resamples=0)
    score = [metrics.iou_from_confusion(c).mean() for c in (first + second, 2 * second)]
    assert found.mean_a == pytest.approx(np.mean(score))
    assert found.mean_b == pytest.approx(metrics.iou_from_confusion(first + second).mean())
    assert (found.seeds_a, found.seeds_b, found.image_se) == (2, 3, 0.0)
    with pytest.raises(ValueError, match="has no test scores"):
        intervals.gap(records_a, records_b, "test")
    short = [_record("c", 0, val=np.stack([first]))]
    with pytest.raises(ValueError, match="different numbers of val images"):
        intervals.gap(records_a, short, "val")


def test_a_hand_computed_contrast_of_four_recipes() -> None:
    # A main effect (A + B) / 2 - (C + D) / 2, each recipe three seeds with SD 0.02: every
    # recipe adds 0.25 * 0.0004 / 3 = 3.333e-5 to the seed variance, 1.3333e-4 in all (SE
    # 0.011547); Welch-Satterthwaite: (4v)^2 / (4 v^2 / 2) = 8 degrees of freedom,
    # t(0.975, 8) = 2.306004, half-width 0.026628 around (0.62 + 0.58) / 2 - (0.52 + 0.50) / 2.
    a, b, c, d = ([m - 0.02, m, m + 0.02] for m in (0.62, 0.58, 0.52, 0.50))
    found = intervals.from_terms([(0.5, a), (0.5, b), (-0.5, c), (-0.5, d)])
    assert found.gap == pytest.approx(0.09)
    assert found.seed_se == pytest.approx(0.011547, abs=1e-6)
    assert found.dof == pytest.approx(8.0)
    assert (found.low, found.high) == pytest.approx((0.09 - 0.026628, 0.09 + 0.026628), abs=1e-6)
    assert (found.mean_a, found.mean_b) == pytest.approx((0.60, 0.51))
    assert (found.seeds_a, found.seeds_b) == (3, 3)
    assert found.verdict == "ahead"
    # One recipe with one seed: no interval, whatever the gap.
    assert intervals.from_terms([(1.0, a), (-1.0, [0.1])]).verdict == "cannot tell"


def test_a_recipe_named_twice_in_a_contrast_is_one_recipe() -> None:
    first, second = _image(90, 10), _image(40, 60)
    records_a = [_record("a", s, val=np.stack([first, second])) for s in range(2)]
    records_a.append(_record("a", 2, val=np.stack([second, second])))
    records_b = [_record("b", s, val=np.stack([second, first + s])) for s in range(3)]
    pair = intervals.gap(records_a, records_b, "val", resamples=300, seed=4)
    # A split in two halves of weight 0.5 is the same contrast, and draws the same images.
    halves = [(0.5, records_a), (-1.0, records_b), (0.5, records_a)]
    assert intervals.contrast(halves, "val", resamples=300, seed=4) == pair
    with pytest.raises(ValueError, match="no recipe of non-zero weight"):
        intervals.contrast([(1.0, records_a), (-1.0, records_a)], "val")


def test_a_paired_contrast_is_students_paired_interval() -> None:
    # The same three models with and without a change made after training: the recipes spread
    # by 0.03 between seeds, the change moves each by 0.010-0.014. Welch's interval holds the
    # seeds' shared spread and cannot tell; the paired one (scipy's ttest_rel) can.
    plain, changed = [0.60, 0.63, 0.66], [0.610, 0.644, 0.672]
    paired = intervals.from_terms([(1.0, changed), (-1.0, plain)], paired=True)
    scipy_paired = stats.ttest_rel(changed, plain).confidence_interval(0.95)
    assert (paired.low, paired.high) == pytest.approx((scipy_paired.low, scipy_paired.high))
    assert paired.dof == 2 and paired.verdict == "ahead"
    # Hand-computed: differences 0.010, 0.014, 0.012, SD 0.002, SE 0.0011547, t(0.975, 2) 4.3027.
    assert paired.seed_se == pytest.approx(0.0011547, abs=1e-7)
    assert paired.high - paired.gap == pytest.approx(4.302653 * 0.0011547, abs=1e-6)
    assert intervals.from_terms([(1.0, changed), (-1.0, plain)]).verdict == "cannot tell"
    with pytest.raises(ValueError, match="same seeds in every recipe"):
        intervals.from_terms([(1.0, changed), (-1.0, plain[:2])], paired=True)


def test_counts_without_records_give_the_records_contrast() -> None:
    first, second = _image(90, 10), _image(40, 60)
    seeds_a = [np.stack([first, second]), np.stack([second, second]), np.stack([first, first])]
    seeds_b = [np.stack([second, first + s]) for s in range(3)]
    records_a = [_record("a", s, test=c) for s, c in enumerate(seeds_a)]
    records_b = [_record("b", s, test=c) for s, c in enumerate(seeds_b)]
    from_records = intervals.gap(records_a, records_b, "test", resamples=300, seed=2)
    terms = [(1.0, seeds_a), (-1.0, seeds_b)]
    assert intervals.from_counts(terms, "test", resamples=300, seed=2) == from_records
    # Paired: the seed part is the spread of the three per-seed gaps, scored from the counts.
    paired = intervals.from_counts(terms, "test", paired=True, resamples=0)
    per_seed = [
        metrics.iou_from_confusion(a.sum(axis=0)).mean()
        - metrics.iou_from_confusion(b.sum(axis=0)).mean()
        for a, b in zip(seeds_a, seeds_b, strict=True)
    ]
    assert paired.gap == pytest.approx(np.mean(per_seed))
    assert paired.seed_se == pytest.approx(np.std(per_seed, ddof=1) / math.sqrt(3))
    with pytest.raises(ValueError, match=r"arrays \(images, 5, 5\)"):
        intervals.from_counts([(1.0, [first]), (-1.0, [second])], "test")
    with pytest.raises(ValueError, match="different numbers of test images"):
        intervals.from_counts([(1.0, seeds_a), (-1.0, [np.stack([first])])], "test")
    with pytest.raises(ValueError, match="at least one seed"):
        intervals.from_counts([(1.0, seeds_a), (-1.0, [])], "test")


def test_the_resolvable_gap_is_the_half_width_at_that_spread() -> None:
    spread = 0.023
    a = [0.60 - spread, 0.60, 0.60 + spread]  # SD exactly 0.023
    found = intervals.from_scores(a, [x - 0.01 for x in a])
    assert intervals.resolvable_gap(spread, seeds=3) == pytest.approx(found.high - found.gap)
    assert intervals.resolvable_gap(spread, seeds=10) < intervals.resolvable_gap(spread, seeds=3)
    with pytest.raises(ValueError, match="at least 2 seeds"):
        intervals.resolvable_gap(spread, seeds=1)


def _scored(name: str, seed: int, val: float, test: float, rock: float) -> SimpleNamespace:
    return SimpleNamespace(
        experiment=SimpleNamespace(name=name, seed=seed),
        metrics={
            "val": {"miou": val},
            "test": {"miou": test, "per_class_iou": {"Big Rock": rock}},
        },
    )


def test_the_seed_table_gives_each_runs_mean_sd_and_range() -> None:
    runs = {
        "unet": [
            _scored("unet", s, v, t, r)
            for s, (v, t, r) in enumerate(
                [(0.60, 0.600, 0.30), (0.62, 0.627, 0.36), (0.64, 0.646, 0.49)]
            )
        ],
        "psp": [_scored("psp", 0, 0.5, 0.55, 0.2)],
    }
    table = intervals.seed_table(runs)
    assert table.loc["unet", "seeds"] == 3 and table.loc["psp", "seeds"] == 1
    assert table.loc["unet", "test mean"] == pytest.approx((0.600 + 0.627 + 0.646) / 3)
    # The spread the issue measured on the weighted U-Net: SD 0.023, range 0.046.
    assert table.loc["unet", "test SD"] == pytest.approx(0.0231, abs=1e-4)
    assert table.loc["unet", "test range"] == pytest.approx(0.046)
    assert table.loc["unet", "Big Rock SD"] == pytest.approx(np.std([0.30, 0.36, 0.49], ddof=1))
    assert math.isnan(table.loc["psp", "test SD"]) and table.loc["psp", "test range"] == 0


def test_the_gap_table_compares_every_pair_in_order() -> None:
    first, second = _image(90, 10), _image(40, 60)
    runs = {
        "a": [_record("a", s, test=np.stack([first, first])) for s in range(2)],
        "b": [_record("b", s, test=np.stack([second, second])) for s in range(2)],
        "c": [_record("c", s, test=np.stack([first, second])) for s in range(2)],
    }
    table = intervals.gap_table(runs, "test", resamples=0)
    assert list(zip(table["A"], table["B"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    a, b = (intervals.batch_scores(2 * image.astype(float)) for image in (first, second))
    assert table.loc[0, "gap"] == pytest.approx(a - b)
    # Identical seeds: no spread, an interval of zero width, so any gap is told.
    assert list(table["verdict"]) == ["ahead", "ahead", "behind"]
    against = intervals.gap_table(runs, "test", bases=["c", "z", "a"], resamples=0)
    assert list(zip(against["A"], against["B"])) == [("a", "c"), ("b", "c"), ("b", "a")]
    assert against.loc[0, "gap"] == pytest.approx(table.loc[1, "gap"])  # a - c, both ways


def test_the_seed_table_of_no_run_is_empty_with_its_columns() -> None:
    table = intervals.seed_table({})
    assert table.empty and "test SD" in table.columns and table.index.name == "run"
