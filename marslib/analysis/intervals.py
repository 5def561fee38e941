"""How sure a gap between two recipes is: an interval from their seeds and their scored images.

    gap = intervals.gap(records_a, records_b, "test")   # every seed of each recipe
    effect = intervals.contrast([(0.5, a), (0.5, b), (-0.5, c), (-0.5, d)], "test")  # any sum
    tta = intervals.from_counts([(1, flipped), (-1, plain)], "test", paired=True)  # no records
    gap.verdict                 # "ahead", "behind" or "cannot tell"
    print(gap.describe())       # "+0.031 (95% interval -0.012 to +0.074): cannot tell"
    intervals.resolvable_gap(seed_sd=0.023, seeds=3)    # the smallest gap 3 seeds can tell

A recipe's score moves for two reasons the book can measure. **Seeds**: the same recipe trained
with another seed (other initial weights, batches and augmented copies) lands elsewhere; the
spread of a recipe's seeds, scored on the same images, measures it. **Images**: the validation
split and the public test quarter are samples of the images a model will meet; another sample
would give other scores, and a bootstrap over the images measures how much.

The interval of a gap (the mean score of recipe A's seeds minus recipe B's) adds the two:

- the seed part is Welch's: ``s_A^2 / n_A + s_B^2 / n_B`` from each recipe's seed variance
  (ddof 1);
- the image part is the variance of the same gap over `resamples` paired bootstrap samples of
  the split's images (the same resampled images for every seed of both recipes: the gap between
  two models on one image set is what varies, not each score alone). A score is recomputed from
  the per-image confusion matrices each record stores (`RunRecord.per_image`), summed over the
  resampled images, so no model predicts again;
- the interval is ``gap +- t * sqrt(seed part + image part)``, with Student's t at the
  Welch-Satterthwaite degrees of freedom of the seed part (the bootstrap's variance is taken as
  known). With three seeds a side that is about 4 degrees of freedom, t = 2.78: few seeds make
  wide intervals, which is the honest answer. Without image variance (`resamples=0`) it is
  exactly Welch's t interval (scipy's ``ttest_ind(equal_var=False).confidence_interval()``).

Why not a bootstrap over seeds too: with three seeds a side it sees only ten different samples
of each recipe and underestimates the spread by a third (its variance is (n-1)/n of the sample
variance); the t interval accounts for how little three seeds tell.

"ahead" or "behind" only when the interval excludes zero; otherwise "cannot tell". A recipe with
a single seed has no measured seed spread: its gap "cannot tell" whatever its size.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
from scipy import stats

from marslib import metrics
from marslib.core.classes import NUM_CLASSES, SCORED_NAMES

if TYPE_CHECKING:
    from marslib.training.run_records import RunRecord

CONFIDENCE = 0.95
RESAMPLES = 2000
MIOU = "miou"
FIVE_CLASS = "5-class mIoU"


@dataclass(frozen=True)
class Gap:
    """The gap between two recipes' mean scores on one split, and how sure it is.

    Attributes:
        score: what was compared: "miou", or a class name such as "Big Rock" (its IoU).
        split: "val" or "test".
        mean_a, mean_b: each recipe's mean score over its seeds (for a `contrast` of more
            recipes: the weighted sum of its positive side, and of its negative side's
            recipes with their weights' sizes).
        sd_a, sd_b: each recipe's seed standard deviation (ddof 1; NaN with one seed; for a
            contrast, ``sqrt(sum w^2 s^2)`` over a side's recipes).
        seeds_a, seeds_b: how many seeds each recipe has (for a contrast, the fewest on a side).
        gap: mean_a - mean_b (for a contrast, its value).
        seed_se, image_se: the standard errors of the gap from the seeds and from the images.
        dof: the degrees of freedom of the t quantile (NaN with one seed on a side).
        low, high: the interval at `confidence` (NaN with one seed on a side).
        confidence: e.g. 0.95.
    """

    score: str
    split: str
    mean_a: float
    mean_b: float
    sd_a: float
    sd_b: float
    seeds_a: int
    seeds_b: int
    gap: float
    seed_se: float
    image_se: float
    dof: float
    low: float
    high: float
    confidence: float

    @property
    def verdict(self) -> str:
        """ "ahead" (A better: the interval lies above 0), "behind", or "cannot tell"."""
        if self.low > 0:
            return "ahead"
        if self.high < 0:
            return "behind"
        return "cannot tell"

    def describe(self) -> str:
        """E.g. "+0.031 (95% interval -0.012 to +0.074): cannot tell"."""
        if math.isnan(self.low):
            return f"{self.gap:+.3f} (one seed: no interval): cannot tell"
        return (
            f"{self.gap:+.3f} ({self.confidence:.0%} interval {self.low:+.3f} to "
            f"{self.high:+.3f}): {self.verdict}"
        )


def batch_scores(confusions: np.ndarray, score: str = MIOU) -> np.ndarray:
    """The competition's mIoU (or one class's IoU, or the 5-class mIoU) of many confusion
    matrices at once.

    Args:
        confusions: counts (..., 5, 5), rows true class, columns predicted class.
        score: "miou", a scored class's name ("Soil", "Bedrock", "Sand", "Big Rock"), or
            `FIVE_CLASS` (background counted: `marslib.metrics.five_class_miou`).

    Returns:
        float64 (...): each matrix's score, from `marslib.metrics.iou_from_confusion`
        (true background ignored; 1.0 for a class with an empty union); for `FIVE_CLASS` the
        mean IoU of all five classes over all pixels.
    """
    if score == FIVE_CLASS:
        return metrics.five_class_miou(confusions)
    iou = metrics.iou_from_confusion(confusions)
    if score == MIOU:
        return iou.mean(axis=-1)
    if score not in SCORED_NAMES:
        raise ValueError(
            f"unknown score {score!r}; expected 'miou', {FIVE_CLASS!r} or one of {SCORED_NAMES}"
        )
    return iou[..., SCORED_NAMES.index(score)]


def _per_image(records: Sequence[RunRecord], split: str) -> list[np.ndarray]:
    found = []
    for record in records:
        counts = record.per_image()
        if split not in counts:
            raise ValueError(
                f"{record.experiment.name} (seed {record.experiment.seed}) has no {split} scores "
                f"to compare (its record scored {sorted(counts)})"
            )
        found.append(counts[split])
    return found


def gap(
    records_a: Sequence[RunRecord],
    records_b: Sequence[RunRecord],
    split: str,
    score: str = MIOU,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Gap:
    """The gap between recipe A (its seeds' records) and recipe B on `split`, with its interval:
    the contrast A - B (`contrast`).

    Args:
        records_a, records_b: one record per seed of each recipe, scored on the same images.
        split: "val" (the validation split) or "test" (the public test quarter).
        score: "miou" or a class name (its IoU).
        confidence: the interval's coverage.
        resamples: paired bootstrap samples of the images (0: seeds only, Welch's interval).
        seed: the bootstrap's random seed (the same seed gives the same interval).

    Raises:
        ValueError: no record on a side, a split a record has no scores for, or records scored
            on different numbers of images.
    """
    if not records_a or not records_b:
        raise ValueError("each recipe needs at least one record (one per seed)")
    return contrast(
        [(1.0, records_a), (-1.0, records_b)],
        split,
        score,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


def contrast(
    terms: Sequence[tuple[float, Sequence[RunRecord]]],
    split: str,
    score: str = MIOU,
    *,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Gap:
    """A weighted sum of recipes' mean scores, with its interval: for example the main effect
    of an ingredient in a two-by-two ablation, ``(A + B) / 2 - (C + D) / 2``.

    The seed part adds each recipe's ``w^2 s^2 / n`` and takes t at the Welch-Satterthwaite
    degrees of freedom of that sum; the image part is the variance of the whole sum over paired
    bootstrap samples of the images (the same sample for every seed of every recipe). A recipe
    named in two terms (the same records) is one recipe: its weights are added first, so a
    recipe on both sides of a difference cancels rather than counting its spread twice.

    Args:
        terms: (weight, one record per seed of a recipe) pairs; weights may be negative.
        split, score, confidence, resamples, seed: as for `gap`.

    Returns:
        A `Gap` whose "a" side is the terms of positive weight and "b" side the negative ones.

    Raises:
        ValueError: a recipe without records, a split a record has no scores for, records scored
            on different numbers of images, or no term of non-zero weight.
    """
    merged: dict[tuple[tuple[str, int], ...], list[Any]] = {}
    for weight, records in terms:
        if not records:
            raise ValueError("each recipe needs at least one record (one per seed)")
        key = tuple((r.experiment.name, r.experiment.seed) for r in records)
        merged.setdefault(key, [0.0, records])[0] += float(weight)
    kept = [(weight, records) for weight, records in merged.values() if weight != 0]
    if not kept:
        raise ValueError("the contrast has no recipe of non-zero weight")
    return from_counts(
        [(weight, _per_image(records, split)) for weight, records in kept],
        split,
        score,
        confidence=confidence,
        resamples=resamples,
        seed=seed,
    )


def from_counts(
    terms: Sequence[tuple[float, Sequence[np.ndarray]]],
    split: str,
    score: str = MIOU,
    *,
    paired: bool = False,
    confidence: float = CONFIDENCE,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> Gap:
    """`contrast` on predictions that have no record: each seed's per-image confusion matrices
    (`marslib.metrics.per_image_confusion`), for example a model's with and without flip
    averaging at test time, or an ensemble's.

    Args:
        terms: (weight, one int array (images, 5, 5) per seed) pairs, one per recipe, every
            array over the same images in the same order.
        split: which images the counts are of ("val" or "test"; carried into the result).
        score: "miou" or a class name (its IoU).
        paired: True when seed i of every recipe belongs together (the same seed's model
            changed after training, or runs that share their seed's data): the seed part is
            then the spread of the per-seed contrasts (`from_terms`), every recipe with the
            same number of seeds.
        confidence, resamples, seed: as for `gap`.

    Raises:
        ValueError: a recipe without counts, counts of another shape or of different numbers of
            images, or (paired) recipes with different numbers of seeds.
    """
    counts = [[np.asarray(c) for c in recipe] for _, recipe in terms]
    if not counts or any(not recipe for recipe in counts):
        raise ValueError("each recipe needs the counts of at least one seed")
    shapes = {c.shape[1:] for recipe in counts for c in recipe if c.ndim == 3}
    if shapes != {(NUM_CLASSES, NUM_CLASSES)} or any(c.ndim != 3 for r in counts for c in r):
        raise ValueError(
            f"per-image counts must be arrays (images, {NUM_CLASSES}, {NUM_CLASSES}), got shapes "
            f"{sorted({c.shape for recipe in counts for c in recipe})}"
        )
    sizes = {len(c) for recipe in counts for c in recipe}
    if len(sizes) != 1:
        raise ValueError(f"the counts are of different numbers of {split} images: {sizes}")
    weights = [float(weight) for weight, _ in terms]
    scores = [np.array([batch_scores(c.sum(axis=0), score) for c in recipe]) for recipe in counts]
    image_var = _image_variance(weights, counts, score, resamples, seed) if resamples else 0.0
    return from_terms(
        list(zip(weights, scores, strict=True)),
        image_var,
        score=score,
        split=split,
        paired=paired,
        confidence=confidence,
    )


def _image_variance(
    weights: list[float], counts: list[list[np.ndarray]], score: str, resamples: int, seed: int
) -> float:
    """The variance of the contrast over paired bootstrap samples of the images."""
    images = len(counts[0][0])
    rng = np.random.default_rng(seed)
    # How often each image is drawn in each sample: (resamples, images).
    draws = rng.multinomial(images, np.full(images, 1.0 / images), size=resamples)
    draws = draws.astype(np.float32)

    def mean_score(recipe: list[np.ndarray]) -> np.ndarray:
        totals = [draws @ c.reshape(images, -1).astype(np.float32) for c in recipe]
        shaped = [t.reshape(resamples, NUM_CLASSES, NUM_CLASSES) for t in totals]
        return np.mean([batch_scores(t, score) for t in shaped], axis=0)

    total = sum(w * mean_score(recipe) for w, recipe in zip(weights, counts, strict=True))
    return float(np.var(total, ddof=1))


def from_scores(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    image_variance: float = 0.0,
    *,
    score: str = MIOU,
    split: str = "test",
    confidence: float = CONFIDENCE,
) -> Gap:
    """The gap A - B and its interval from each seed's score and the image part of the variance.

    Args:
        scores_a, scores_b: each seed's score of recipe A and of recipe B.
        image_variance: the variance of the mean gap from the images (`gap` bootstraps it).
        score, split: what the scores are (carried into the result).
        confidence: the interval's coverage.
    """
    return from_terms(
        [(1.0, scores_a), (-1.0, scores_b)],
        image_variance,
        score=score,
        split=split,
        confidence=confidence,
    )


def from_terms(
    terms: Sequence[tuple[float, Sequence[float]]],
    image_variance: float = 0.0,
    *,
    score: str = MIOU,
    split: str = "test",
    paired: bool = False,
    confidence: float = CONFIDENCE,
) -> Gap:
    """A contrast's value and interval from (weight, each seed's score) pairs, one per recipe,
    and the image part of its variance (see `contrast`). With one seed in any recipe there is no
    seed spread to measure: no interval, "cannot tell".

    Unpaired (the default), the recipes' seeds are independent draws: the seed part is Welch's.
    Paired, seed i of every recipe belongs together (the same model with and without a change
    made after training): the seed part is the variance of the per-seed contrasts over their
    number, with n - 1 degrees of freedom (Student's paired t; scipy's ``ttest_rel`` without
    image variance), which leaves out the spread the recipes share."""
    if image_variance < 0 or not 0 < confidence < 1:
        raise ValueError(
            f"image_variance must be >= 0 and confidence in (0, 1), got {image_variance}, "
            f"{confidence}"
        )
    recipes = [(float(w), np.asarray(s, dtype=np.float64)) for w, s in terms]
    if not recipes or any(len(s) == 0 for _, s in recipes):
        raise ValueError("every recipe of a contrast needs at least one seed's score")
    if paired and len({len(s) for _, s in recipes}) != 1:
        raise ValueError(
            "a paired contrast needs the same seeds in every recipe, got "
            f"{[len(s) for _, s in recipes]} seeds"
        )
    seeded = all(len(s) > 1 for _, s in recipes)
    value = sum(w * float(s.mean()) for w, s in recipes)
    nan = math.nan
    if seeded:
        if paired:
            per_seed = sum(w * s for w, s in recipes)
            seed_var, dof = float(np.var(per_seed, ddof=1)) / len(per_seed), len(per_seed) - 1
        else:
            parts = [w**2 * float(np.var(s, ddof=1)) / len(s) for w, s in recipes]
            seed_var = sum(parts)
            spread = sum(p**2 / (len(s) - 1) for p, (_, s) in zip(parts, recipes, strict=True))
            # The seed part's degrees of freedom: the image part, taken as known, widens the
            # interval through the total variance but never buys a smaller t quantile.
            dof = seed_var**2 / spread if spread > 0 else math.inf
        half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(seed_var + image_variance)
        seed_se, low, high = math.sqrt(seed_var), value - half, value + half
    else:
        seed_se, dof, low, high = nan, nan, nan, nan

    def side(sign: int) -> tuple[float, float, int]:
        chosen = [(abs(w), s) for w, s in recipes if w * sign > 0]
        if not chosen:
            return 0.0, nan, 0
        mean = sum(w * float(s.mean()) for w, s in chosen)
        measured = all(len(s) > 1 for _, s in chosen)
        sd = math.sqrt(sum(w**2 * float(np.var(s, ddof=1)) for w, s in chosen)) if measured else nan
        return mean, sd, min(len(s) for _, s in chosen)

    (mean_a, sd_a, seeds_a), (mean_b, sd_b, seeds_b) = side(1), side(-1)
    return Gap(
        score=score,
        split=split,
        mean_a=mean_a,
        mean_b=mean_b,
        sd_a=sd_a,
        sd_b=sd_b,
        seeds_a=seeds_a,
        seeds_b=seeds_b,
        gap=value,
        seed_se=seed_se,
        image_se=math.sqrt(image_variance),
        dof=dof,
        low=low,
        high=high,
        confidence=confidence,
    )


def resolvable_gap(
    seed_sd: float, seeds: int = 3, image_se: float = 0.0, confidence: float = CONFIDENCE
) -> float:
    """The smallest gap an interval of `gap` excludes zero for, between two recipes with `seeds`
    seeds each and the same seed standard deviation `seed_sd` (and `image_se`, the gap's standard
    error from the images): the half-width of the interval.

    >>> round(resolvable_gap(0.023, seeds=3), 3)   # the weighted U-Net's spread on test
    0.052
    """
    if seeds < 2:
        raise ValueError(f"an interval needs at least 2 seeds a recipe, got {seeds}")
    part = seed_sd**2 / seeds
    total = 2 * part + image_se**2
    dof = (2 * part) ** 2 / (2 * part**2 / (seeds - 1)) if part > 0 else math.inf
    return float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(total)


def seed_table(runs: Mapping[str, Sequence[RunRecord]]) -> pd.DataFrame:
    """Each run's seeds at a glance: their scores, mean and standard deviation.

    Args:
        runs: run name -> its records, one per seed (terrain runs).

    Returns:
        DataFrame indexed by run name: "seeds"; the mean and SD (ddof 1, NaN with one seed) of
        the validation mIoU ("val mean", "val SD"), of the public-test mIoU ("test mean",
        "test SD") and of the test Big Rock IoU ("Big Rock mean", "Big Rock SD"); and "test
        range", the largest test mIoU minus the smallest.
    """
    rows = []
    for name, records in runs.items():
        found = {
            "val": [r.metrics["val"]["miou"] for r in records if r.metrics["val"]],
            "test": [r.metrics["test"]["miou"] for r in records if r.metrics["test"]],
            "Big Rock": [
                r.metrics["test"]["per_class_iou"]["Big Rock"] for r in records if r.metrics["test"]
            ],
        }
        row: dict[str, Any] = {"run": name, "seeds": len(records)}
        for key, values in found.items():
            row[f"{key} mean"] = float(np.mean(values)) if values else np.nan
            row[f"{key} SD"] = float(np.std(values, ddof=1)) if len(values) > 1 else np.nan
        row["test range"] = float(np.ptp(found["test"])) if found["test"] else np.nan
        rows.append(row)
    columns = ["run", "seeds"]
    columns += [f"{key} {part}" for key in ("val", "test", "Big Rock") for part in ("mean", "SD")]
    return pd.DataFrame(rows, columns=[*columns, "test range"]).set_index("run")


def gap_table(
    runs: Mapping[str, Sequence[RunRecord]],
    split: str,
    *,
    bases: Sequence[str] | None = None,
    **options: Any,
) -> pd.DataFrame:
    """Pairs of runs compared on `split` with `gap`: one row per pair, with the gap, the interval
    and the verdict ("ahead": A above B).

    Args:
        runs: run name -> its records, one per seed.
        split: "val" or "test".
        bases: None: every pair, A before B in the order given. Else each run of `bases` (those
            present in `runs`) as B against every other run as A (two bases are compared once,
            the later as A): a table that grows with the runs, not with their square.
        options: passed to `gap` (confidence, resamples, seed).
    """
    names = list(runs)
    if bases is None:
        pairs = [(a, b) for i, a in enumerate(names) for b in names[i + 1 :]]
    else:
        chosen = [base for base in bases if base in runs]
        pairs = [
            (a, base)
            for i, base in enumerate(chosen)
            for a in names
            if a != base and a not in chosen[:i]  # an earlier base met this one already
        ]
    rows = []
    for first, second in pairs:
        found = gap(runs[first], runs[second], split, **options)
        rows.append(
            {
                "A": first,
                "B": second,
                "gap": found.gap,
                "low": found.low,
                "high": found.high,
                "verdict": found.verdict,
            }
        )
    return pd.DataFrame(rows, columns=["A", "B", "gap", "low", "high", "verdict"])
