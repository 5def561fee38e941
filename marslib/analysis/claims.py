"""The records behind a chapter's words, read the way a chapter shows them, without TensorFlow.

    record = claims.shown_record("unet_dice")   # the record chapter 6 shows, not re-scored
    claims.test_score(record, "Big Rock")       # its public-test Big Rock IoU
    claims.empty_batch_share(has_rock, 16)      # batches of 16 that hold no Big Rock image

`shown_record` follows `marslib.training.show` on the embedded synthetic set at the quick
profile: the current recipe's reference once every run has all its seeds, until then the
previous recipe's record. tests/test_chapter_claims.py checks the chapters' measured sentences
against these records, so a sentence goes stale only with a failing test.
"""

from __future__ import annotations

import numpy as np

from marslib.analysis import verdicts
from marslib.core.classes import CLASS_NAMES
from marslib.data import loading
from marslib.training import registry, run_records, shown
from marslib.training.run_records import RunRecord

TERRAIN: tuple[str, ...] = tuple(CLASS_NAMES[1:])  # the four classes the competition scores
READING = {True: "ahead", False: "behind", None: "level"}
SPLIT_NAMES = {"val": "validation", "test": "test"}


def shown_record(name: str) -> RunRecord:
    """The record of the named run that the chapters show on the embedded synthetic set.

    Raises:
        ValueError: no finished record of it ships in `run_records.REFERENCES_DIR`.
    """
    fingerprint = loading.recipe_fingerprint(loading.default_recipe())
    if shown.references_complete(fingerprint):  # type: ignore[arg-type]
        directory = run_records.reference_directory(
            registry.get(name, shown.REFERENCE), fingerprint
        )
    else:
        directory = run_records.previous_reference(name, fingerprint)
    if directory is None or not run_records.is_complete(directory):
        raise ValueError(f"no shipped record of {name!r}")
    return run_records.load_record(directory)


def score(record: RunRecord, split: str = "test", name: str = "miou") -> float:
    """A record's score on `split` ("val" or "test"): the mIoU, a class's IoU ("Big Rock"), or
    another number of its metrics ("background recall"); NaN where the record lacks it."""
    found = record.metrics[split] or {}
    if name in found:
        return float(found[name])
    return float(found.get("per_class_iou", {}).get(name, np.nan))


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


def class_gaps(run: RunRecord, base: RunRecord, split: str = "val") -> dict[str, float]:
    """`run`'s IoU minus `base`'s on `split`, for each terrain class."""
    return {name: score(run, split, name) - score(base, split, name) for name in TERRAIN}


def by_class(run: RunRecord, base: RunRecord, split: str = "val") -> str:
    """One sentence: `run` against `base` class by class on `split`, each gap read with the
    book's margin (`verdicts.larger`: ahead, behind or level)."""
    gaps = class_gaps(run, base, split)
    words = ", ".join(
        f"{name} {gap:+.3f} ({READING[verdicts.larger(gap, 0.0)]})" for name, gap in gaps.items()
    )
    return (
        f"On {SPLIT_NAMES[split]}, {run.experiment.name} against {base.experiment.name}, "
        f"IoU by class: {words}."
    )
