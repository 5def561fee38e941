"""The records behind a chapter's words, read the way a chapter shows them, without TensorFlow.

    record = claims.shown_record("unet_dice")   # the record chapter 6 shows, not re-scored
    claims.test_score(record, "Big Rock")       # its public-test Big Rock IoU
    claims.empty_batch_share(has_rock, 16)      # batches of 16 that hold no Big Rock image

`shown_record` follows `marslib.training.show` on the embedded synthetic set at the quick
profile: the current recipe's seed-0 reference, carrying every seed of its run.
tests/test_chapter_claims.py checks the chapters' measured sentences
against these records, so a sentence goes stale only with a failing test.
"""

from __future__ import annotations

import numpy as np

from marslib.analysis import verdicts
from marslib.core.classes import CLASS_NAMES
from marslib.data import loading
from marslib.training import registry, shown
from marslib.training.run_records import RunRecord

TERRAIN: tuple[str, ...] = tuple(CLASS_NAMES[1:])  # the four classes the competition scores
READING = {True: "ahead", False: "behind", None: "cannot tell"}
SPLIT_NAMES = {"val": "validation", "test": "test"}


def shown_record(name: str) -> RunRecord:
    """The record of the named run that the chapters show on the embedded synthetic set.

    Raises:
        ValueError: no finished record of it ships in `run_records.REFERENCES_DIR`.
    """
    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    seeded = shown.seeded_reference(name, fingerprint)  # type: ignore[arg-type]
    if seeded is None:
        raise ValueError(f"no shipped record of {name!r} with all its seeds")
    return seeded


def score(record: RunRecord, split: str = "test", name: str = "miou") -> float:
    """A record's score on `split` ("val" or "test"): the mIoU, a class's IoU ("Big Rock"), or
    another number of its metrics ("background recall"), the mean over the seeds it carries
    (`RunRecord.seed_records`, as the chapters' tables give it); NaN where a record lacks it."""
    values = []
    for seed in record.seed_records():
        found = seed.metrics[split] or {}
        value = found[name] if name in found else found.get("per_class_iou", {}).get(name, np.nan)
        values.append(float(value))
    return float(np.mean(values))


def empty_batch_share(
    has_class: np.ndarray, batch_size: int, epochs: int = 50, seed: int = 0
) -> float:
    """The share of training batches that hold no image with the class, as a trainer that
    shuffles every epoch and keeps the last, smaller batch meets them.

    Examples:

    >>> import numpy as np
    >>> from marslib.analysis import claims
    >>> claims.empty_batch_share(np.ones(100, bool), 16)
    0.0
    >>> claims.empty_batch_share(np.zeros(100, bool), 16)
    1.0
    """
    has_class = np.asarray(has_class, dtype=bool)
    rng = np.random.default_rng(seed)
    empty = total = 0
    for _ in range(epochs):
        order = has_class[rng.permutation(len(has_class))]
        for start in range(0, len(order), batch_size):
            empty += not order[start : start + batch_size].any()
            total += 1
    return empty / total


def by_class(run: RunRecord, base: RunRecord, split: str = "val") -> str:
    """One sentence: `run` against `base` class by class on `split`, each gap read as
    `verdicts.gain` reads it (ahead or behind where the interval over the seeds leaves out 0,
    else cannot tell; runs of one seed cannot tell)."""
    gaps = {name: verdicts.gain(run, base, split, name) for name in TERRAIN}
    words = ", ".join(
        f"{name} {gap:+.3f} ({READING[ahead]})" for name, (gap, ahead) in gaps.items()
    )
    return (
        f"On {SPLIT_NAMES[split]}, {run.experiment.name} against {base.experiment.name}, "
        f"IoU by class: {words}."
    )


def judge(
    run: RunRecord, base: RunRecord, claim: str, splits: tuple[str, ...] = ("val", "test")
) -> str:
    """Whether `run` against `base` supports a claim that `run` is better, in words: the gap on
    each split of `splits` that the records have, read as `verdicts.gain` reads it (an interval
    over the seeds; runs of one seed cannot tell), then the verdict
    (supported when `run` is ahead on every split, not supported when it is ahead on none).

    Examples:

    >>> import pandas as pd
    >>> from marslib import training
    >>> from marslib.analysis import claims
    >>> def record(name, val, test):
    ...     return training.RunRecord(
    ...         directory=None, experiment=training.get(name, "reference"),
    ...         history=pd.DataFrame(), provenance={},
    ...         metrics={"val": {"miou": val}, "test": {"miou": test},
    ...                  "best_epoch": 9, "epochs_run": 10})
    >>> base = record("pspnet_best_recipe", 0.650, 0.668)
    >>> run = record("attention_psp", 0.629, 0.668)
    >>> print(claims.judge(run, base, "the gates improved the predictions"))  # one seed each
    attention_psp against pspnet_best_recipe: validation -0.021 (cannot tell), test +0.000 (cannot
    tell). These runs do not support the claim that the gates improved the predictions:
    attention_psp is ahead of pspnet_best_recipe on no split with a 95% interval clear of 0 over
    their seeds.
    """
    found = [s for s in splits if not np.isnan(score(run, s)) and not np.isnan(score(base, s))]
    read = {split: verdicts.gain(run, base, split) for split in found}
    gaps = {split: gap for split, (gap, _) in read.items()}
    ahead = {split: reading for split, (_, reading) in read.items()}
    one, two = run.experiment.name, base.experiment.name
    listed = ", ".join(
        f"{SPLIT_NAMES[split]} {gap:+.3f} ({READING[ahead[split]]})" for split, gap in gaps.items()
    )
    if ahead and all(ahead.values()):
        verdict = f"These runs support the claim that {claim}."
    elif any(ahead.values()):
        verdict = (
            f"These runs support the claim that {claim} on some splits only: read it as unsettled."
        )
    else:
        verdict = (
            f"These runs do not support the claim that {claim}: {one} is ahead of {two} on no "
            "split with a 95% interval clear of 0 over their seeds."
        )
    return f"{one} against {two}: {listed}. {verdict}"


def best_candidates() -> list[str]:
    """The runs "the best model" is chosen among, in every chapter: chapter 12's, that is Table
    1's six rows and the two-by-two ablation's runs."""
    return [*registry.TABLE1, *registry.names("ablation")]


def best_of(records: dict[str, RunRecord]) -> str:
    """The book's best model: of `records` (by name), the run with the highest validation mIoU
    (the mean over the seeds a record carries).
    It is chosen on validation, as a team without the test labels must choose, and judged on
    test afterwards.

    Raises:
        ValueError: when no record has a validation score.
    """
    scored = {name: score(r, "val") for name, r in records.items() if r.val_miou is not None}
    if not scored:
        raise ValueError("no record with a validation score to choose the best model from")
    return max(scored, key=scored.__getitem__)
