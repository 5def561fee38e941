"""What each idea of chapter 13 adds to the report's recipe, over every seed, with intervals.

    counts = additions.seed_counts(recipe, net, ensemble_runs, scoring.images, scoring.masks)
    table = additions.gains_table(counts, recipe, {"data: CutMix": cutmix}, scoring)

The ideas come in two kinds, and their gains are read in two ways:

- **changes after training** (flip averaging at test time, the refinement net, an ensemble) are
  made to each seed's model of the recipe and predicted here (`seed_counts`). Seed i of the
  recipe, of the net and of every ensemble member go together, so the gain is read seed by seed:
  a paired contrast (`marslib.analysis.intervals.from_counts` with ``paired=True``), which leaves
  out the recipe's own seed spread, shared by both sides;
- **changes before training** (another model, another training set) are runs trained again with
  their own seeds; their per-image counts come from their records (`RunRecord.per_image`, on
  the scoring set's images), and their gain over the recipe's records is Welch's.

Either way "raises" or "lowers" only when the 95% interval leaves out 0; a run of one seed (a
run trained now, not a shipped reference) has no interval and cannot tell.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from marslib import metrics, models
from marslib.analysis import intervals
from marslib.evaluation import refine
from marslib.evaluation.scoring import ScoringSet

if TYPE_CHECKING:
    from marslib.training.run_records import RunRecord

RECIPE, TTA, REFINED, ENSEMBLE = "the recipe", "+ flip TTA", "+ refinement net", "ensemble"
MOVES = {"ahead": "raises the mIoU", "behind": "lowers the mIoU", "cannot tell": "cannot tell"}
MEANS = ("mIoU", "Big Rock IoU", "background recall", "5-class mIoU")


def _paired_seeds(recipe: RunRecord, others: Sequence[RunRecord]) -> list[int]:
    """The recipe's seeds, which every other run must have too (seed i goes with seed i)."""
    seeds = [record.experiment.seed for record in recipe.seed_records()]
    for run in others:
        theirs = [record.experiment.seed for record in run.seed_records()]
        if theirs != seeds:
            raise ValueError(
                f"{run.experiment.name} has seeds {theirs} and the recipe "
                f"{recipe.experiment.name} has {seeds}: a change made after training pairs each "
                "seed of the recipe with the same seed of every other run"
            )
    return seeds


def seed_counts(
    recipe: RunRecord,
    net: RunRecord,
    ensemble_runs: Sequence[RunRecord],
    images: np.ndarray,
    masks: np.ndarray,
    *,
    threshold: float = 0.5,
    batch_size: int = 64,
) -> dict[str, list[np.ndarray]]:
    """Each seed's per-image counts of the recipe's model and of the changes made after training.

    For seed i: the recipe's model alone (`RECIPE`), with flip averaging (`TTA`: the mean of the
    image's and its mirror's probabilities, as `marslib.models.predict(..., flip=True)`),
    refined by the background net of seed i at `threshold` (`REFINED`, `refine.combine`), and
    the mean of the probabilities of seed i of every run in `ensemble_runs` (`ENSEMBLE`, as
    `marslib.evaluation.ensemble.Ensemble`). Each model predicts once per seed: a member that is
    the recipe itself reuses its probabilities.

    Args:
        recipe: the recipe's record, carrying its seeds (`RunRecord.seed_records`).
        net: the background net's record (two classes, class 0 background), the same seeds.
        ensemble_runs: at least two records, the same seeds.
        images: uint8 (N, H, W); masks: their true labels, integer (N, H, W).
        threshold: the refinement net's background threshold.
        batch_size: images per forward pass.

    Returns:
        `RECIPE`, `TTA`, `REFINED`, `ENSEMBLE` -> one uint16 array (N, 5, 5) per seed, in the
        recipe's seed order (`marslib.metrics.per_image_confusion`).

    Raises:
        ValueError: fewer than two ensemble members, or runs whose seeds differ from the recipe's.
    """
    if len(ensemble_runs) < 2:
        raise ValueError(f"an ensemble needs at least 2 runs, got {len(ensemble_runs)}")
    seeds = _paired_seeds(recipe, [net, *ensemble_runs])
    found: dict[str, list[np.ndarray]] = {RECIPE: [], TTA: [], REFINED: [], ENSEMBLE: []}
    mirrored_images = np.ascontiguousarray(images[:, :, ::-1])

    def of_seed(run: RunRecord, seed: int) -> RunRecord:
        return next(r for r in run.seed_records() if r.experiment.seed == seed)

    def confusions(probabilities: np.ndarray) -> np.ndarray:
        return metrics.per_image_confusion(masks, np.argmax(probabilities, axis=-1))

    for seed in seeds:
        model = of_seed(recipe, seed).load_model()
        alone = models.probabilities(model, images, batch_size=batch_size)
        mirrored = models.probabilities(model, mirrored_images, batch_size=batch_size)
        found[RECIPE].append(confusions(alone))
        found[TTA].append(confusions((alone + mirrored[:, :, ::-1]) / 2))
        del mirrored
        background = models.probabilities(
            of_seed(net, seed).load_model(), images, batch_size=batch_size
        )[..., 0]
        found[REFINED].append(confusions(np.asarray(refine.combine(alone, background, threshold))))
        del background
        total = np.zeros_like(alone)
        for run in ensemble_runs:
            if run.experiment.name == recipe.experiment.name:
                total += alone
            else:
                member = of_seed(run, seed).load_model()
                total += models.probabilities(member, images, batch_size=batch_size)
        found[ENSEMBLE].append(confusions(total / len(ensemble_runs)))
    return found


def record_counts(run: RunRecord, scoring: ScoringSet) -> list[np.ndarray]:
    """Each seed's per-image counts of `run`, as its records hold them, on the scoring set's
    images (its `split`, at its `positions`): uint16 (N, 5, 5) per seed, in the run's seed order.

    Raises:
        ValueError: a record without scores on the scoring set's split.
    """
    found = []
    for record in run.seed_records():
        counts = record.per_image()
        if scoring.split not in counts:
            raise ValueError(
                f"{record.experiment.name} (seed {record.experiment.seed}) has no "
                f"{scoring.split} scores (its record scored {sorted(counts)})"
            )
        found.append(counts[scoring.split][scoring.positions])
    return found


def _means(seeds: Sequence[np.ndarray]) -> dict[str, float]:
    """The mean over seeds of `MEANS`, each seed scored on its summed counts."""
    rows = [
        metrics.score_row(metrics.confusion_scores(c.sum(axis=0), len(c), background=True))
        for c in seeds
    ]
    return {column: float(np.mean([row[column] for row in rows])) for column in MEANS}


def _row(gain: intervals.Gap | None, seeds: int, means: dict[str, float], kind: str) -> dict:
    interval = "" if gain is None or np.isnan(gain.low) else f"{gain.low:+.3f} to {gain.high:+.3f}"
    return {
        "seeds": seeds,
        "mIoU": means["mIoU"],
        "Δ mIoU": np.nan if gain is None else gain.gap,
        "95% interval": interval,
        "verdict": "(base)" if gain is None else MOVES[gain.verdict],
        "gain read": kind,
        **{column: means[column] for column in MEANS[1:]},
    }


def gains_table(
    counts: Mapping[str, Sequence[np.ndarray]],
    recipe: RunRecord,
    retrained: Mapping[str, RunRecord],
    scoring: ScoringSet,
) -> pd.DataFrame:
    """Every idea's mean scores over its seeds and its mIoU gain over the recipe, with a 95%
    interval and what it supports.

    Args:
        counts: `seed_counts` on `scoring`'s images: its first entry is the recipe's own
            predictions, the base of the changes made after training (paired gains).
        recipe: the recipe's record with its seeds: the base of the retrained runs, from its
            records' counts on the same images (Welch's gains).
        retrained: a row label -> the record of a run trained with one change, its seeds.
        scoring: the images `counts` were predicted on (`marslib.evaluation.scoring`): its
            `split` and `positions` pick the same images from the records' counts.

    Returns:
        One row per entry of `counts`, then of `retrained`; columns "seeds", "mIoU", "Δ mIoU"
        (the mean gain), "95% interval", "verdict" ("raises the mIoU", "lowers the mIoU",
        "cannot tell"; "(base)" for the recipe), "gain read" ("seed by seed" or "independent
        seeds"), then the means of "Big Rock IoU", "background recall" and "5-class mIoU".

    Raises:
        ValueError: `counts` empty or not over the scoring set's images, or a record without
            scores on its split.
    """
    if not counts:
        raise ValueError("no counts: pass seed_counts(...)'s result")
    (base_name, base), *changes = counts.items()
    if {len(c) for c in base} != {len(scoring.positions)}:
        raise ValueError(
            f"the counts are over {sorted({len(c) for c in base})} images, the scoring set has "
            f"{len(scoring.positions)}: predict them on its images"
        )
    rows = {base_name: _row(None, len(base), _means(base), "")}
    for name, seeds in changes:
        gain = intervals.from_counts([(1.0, seeds), (-1.0, base)], scoring.split, paired=True)
        rows[name] = _row(gain, len(seeds), _means(seeds), "seed by seed")

    recipe_seeds = record_counts(recipe, scoring)
    for name, run in retrained.items():
        seeds = record_counts(run, scoring)
        gain = intervals.from_counts([(1.0, seeds), (-1.0, recipe_seeds)], scoring.split)
        rows[name] = _row(gain, len(seeds), _means(seeds), "independent seeds")
    return pd.DataFrame.from_dict(rows, orient="index")
