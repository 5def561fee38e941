"""How sure a gap between two recipes is: an interval from their seeds and their scored images.

    gap = intervals.gap(records_a, records_b, "test")   # every seed of each recipe
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


@dataclass(frozen=True)
class Gap:
    """The gap between two recipes' mean scores on one split, and how sure it is.

    Attributes:
        score: what was compared: "miou", or a class name such as "Big Rock" (its IoU).
        split: "val" or "test".
        mean_a, mean_b: each recipe's mean score over its seeds.
        sd_a, sd_b: each recipe's seed standard deviation (ddof 1; NaN with one seed).
        seeds_a, seeds_b: how many seeds each recipe has.
        gap: mean_a - mean_b.
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
    """The competition's mIoU (or one class's IoU) of many confusion matrices at once.

    Args:
        confusions: counts (..., 5, 5), rows true class, columns predicted class.
        score: "miou" or a scored class's name ("Soil", "Bedrock", "Sand", "Big Rock").

    Returns:
        float64 (...): each matrix's score, from `marslib.metrics.iou_from_confusion`
        (true background ignored; 1.0 for a class with an empty union).
    """
    iou = metrics.iou_from_confusion(confusions)
    if score == MIOU:
        return iou.mean(axis=-1)
    if score not in SCORED_NAMES:
        raise ValueError(f"unknown score {score!r}; expected 'miou' or one of {SCORED_NAMES}")
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
    """The gap between recipe A (its seeds' records) and recipe B on `split`, with its interval.

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
    counts_a, counts_b = _per_image(records_a, split), _per_image(records_b, split)
    sizes = {len(c) for c in counts_a + counts_b}
    if len(sizes) != 1:
        raise ValueError(f"the records were scored on different numbers of {split} images: {sizes}")
    scores_a = np.array([batch_scores(c.sum(axis=0), score) for c in counts_a])
    scores_b = np.array([batch_scores(c.sum(axis=0), score) for c in counts_b])
    image_var = _image_variance(counts_a, counts_b, score, resamples, seed) if resamples else 0.0
    return from_scores(
        scores_a, scores_b, image_var, score=score, split=split, confidence=confidence
    )


def _image_variance(
    counts_a: list[np.ndarray], counts_b: list[np.ndarray], score: str, resamples: int, seed: int
) -> float:
    """The variance of the mean gap over paired bootstrap samples of the images."""
    images = len(counts_a[0])
    rng = np.random.default_rng(seed)
    # How often each image is drawn in each sample: (resamples, images).
    weights = rng.multinomial(images, np.full(images, 1.0 / images), size=resamples)
    weights = weights.astype(np.float32)

    def mean_score(counts: list[np.ndarray]) -> np.ndarray:
        totals = [weights @ c.reshape(images, -1).astype(np.float32) for c in counts]
        shaped = [t.reshape(resamples, NUM_CLASSES, NUM_CLASSES) for t in totals]
        return np.mean([batch_scores(t, score) for t in shaped], axis=0)

    return float(np.var(mean_score(counts_a) - mean_score(counts_b), ddof=1))


def from_scores(
    scores_a: Sequence[float],
    scores_b: Sequence[float],
    image_variance: float = 0.0,
    *,
    score: str = MIOU,
    split: str = "test",
    confidence: float = CONFIDENCE,
) -> Gap:
    """The gap and its interval from each seed's score and the image part of the variance.

    Args:
        scores_a, scores_b: each seed's score of recipe A and of recipe B.
        image_variance: the variance of the mean gap from the images (`gap` bootstraps it).
        score, split: what the scores are (carried into the result).
        confidence: the interval's coverage.
    """
    a, b = np.asarray(scores_a, dtype=np.float64), np.asarray(scores_b, dtype=np.float64)
    if image_variance < 0 or not 0 < confidence < 1:
        raise ValueError(
            f"image_variance must be >= 0 and confidence in (0, 1), got {image_variance}, "
            f"{confidence}"
        )
    na, nb = len(a), len(b)
    sd_a = float(np.std(a, ddof=1)) if na > 1 else math.nan
    sd_b = float(np.std(b, ddof=1)) if nb > 1 else math.nan
    difference = float(a.mean() - b.mean())
    nan = math.nan
    if na < 2 or nb < 2:
        seed_se, dof, low, high = nan, nan, nan, nan
    else:
        part_a, part_b = sd_a**2 / na, sd_b**2 / nb
        seed_se = math.sqrt(part_a + part_b)
        total = part_a + part_b + image_variance
        spread = part_a**2 / (na - 1) + part_b**2 / (nb - 1)
        # The seed part's degrees of freedom: the image part, taken as known, widens the interval
        # through `total` but never buys a smaller t quantile.
        dof = (part_a + part_b) ** 2 / spread if spread > 0 else math.inf
        half = float(stats.t.ppf(0.5 + confidence / 2, dof)) * math.sqrt(total)
        low, high = difference - half, difference + half
    return Gap(
        score=score,
        split=split,
        mean_a=float(a.mean()),
        mean_b=float(b.mean()),
        sd_a=sd_a,
        sd_b=sd_b,
        seeds_a=na,
        seeds_b=nb,
        gap=difference,
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


def gap_table(runs: Mapping[str, Sequence[RunRecord]], split: str, **options: Any) -> pd.DataFrame:
    """Every pair of runs compared on `split` with `gap`: one row per pair (A before B in the
    order given), with the gap, the interval and the verdict ("ahead": A above B)."""
    names = list(runs)
    rows = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
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
