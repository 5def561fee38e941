"""What carries over to the real file: each finding of the book, whether the synthetic generator
builds it in or it is a property of training, and what was seen on the real data.

    carryover.table()      # chapter 14's table, one row per finding

A finding the generator builds in (`GENERATOR`: `marslib.data.synthetic` was written to have it)
is a check that the book's code sees what was put there, not evidence about Mars. A property of
training (`TRAINING`: of the loss, the metric or the batches, whatever the pictures) should carry
over to the real file; the column "real data" says what the report and the public solutions saw
there. Every claim names whose it is: the report's words in quotes, the public solutions' from
the book's sources page (the label in "source").
"""

from __future__ import annotations

from dataclasses import astuple, dataclass, fields

import pandas as pd

GENERATOR = "built into the generator"
TRAINING = "property of training: should carry over"


@dataclass(frozen=True)
class Finding:
    finding: str  # what the book measured, in a few words
    chapter: int  # where
    origin: str  # GENERATOR or TRAINING
    report: str  # what the report saw on the real data ("" if it says nothing)
    others: str  # what the public solutions saw ("" if nothing)
    source: str = ""  # the sources page's label for `others`


FINDINGS: tuple[Finding, ...] = (
    Finding(
        "aliens share one mask; some single-class masks are wrong",
        3,
        GENERATOR,
        'removed the aliens; fixing labels "was not big source of improvement"',
        "110 aliens, found by their shared mask",
        "src-dataset",
    ),
    Finding(
        "Big Rock: rare in pixels (0.13% on the real file) and in images",
        4,
        GENERATOR,
        'Big Rock pixels "less frequent" than the others, by a factor it gives as 10^6',
        "Big Rock IoU stayed between 0.09 and 0.32",
        "src-lessons",
    ),
    Finding(
        "most batches hold no Big Rock, so a per-batch Dice votes for none",
        6,
        TRAINING,
        'Dice and focal "did not lead to significant improvements"',
        "teams above the report used Dice plus focal",
        "src-leaderboard",
    ),
    Finding(
        "the score ignores background, and so can the loss",
        6,
        TRAINING,
        'weights ignoring background: "highly effective"',
        "the biggest single gain",
        "src-lessons",
    ),
    Finding(
        "the course's MeanIoU divides by five once terrain is called background",
        6,
        TRAINING,
        "",
        "",
    ),
    Finding(
        "upside-down flips show what a level camera never sees",
        5,
        GENERATOR,
        "",
        "rotation, zoom or brightness often hurt",
        "src-lessons",
    ),
    Finding(
        "patchy masks, and which ingredient removes the patches",
        10,
        GENERATOR,
        'a "patchy appearance", which led it to PSP',
        "",
    ),
    Finding(
        "a loss with background weight 0 never rewards predicting background",
        9,
        TRAINING,
        'the model "was prone to predict much less background"',
        "",
    ),
    Finding(
        "terrains confused with each other (overlapping grey levels)",
        14,
        GENERATOR,
        '"similarity between the different type of terrains"',
        "",
    ),
    Finding(
        "data and loss against the model (the two-by-two ablation)",
        12,
        TRAINING,
        'gains "due to the right choice of loss and of the dataset, rather than the model"',
        "simple U-Nets often beat complex models",
        "src-lessons",
    ),
)


def table(findings: tuple[Finding, ...] = FINDINGS) -> pd.DataFrame:
    """One row per finding, in chapter order: the columns of `Finding`, "" where nothing is known.

    Examples:

    >>> from marslib.analysis import carryover
    >>> frame = carryover.table()
    >>> list(frame.columns)
    ['chapter', 'origin', 'report', 'others', 'source']
    >>> sorted(set(frame["origin"])) == sorted({carryover.GENERATOR, carryover.TRAINING})
    True
    """
    names = [field.name for field in fields(Finding)]
    frame = pd.DataFrame([astuple(f) for f in findings], columns=names)
    return frame.sort_values("chapter", kind="stable").set_index("finding")
