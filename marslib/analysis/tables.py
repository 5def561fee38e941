"""Tables a reader can read: rounded numbers, and words instead of Python reprs in cells.

    from marslib.analysis import tables
    tables.readable(frame)                     # floats to 3 decimals, dicts and lists in words
    tables.readable(frame, percent=["share"])  # a share as a percentage: "2.9%"
    tables.weights_in_words(e.class_weights)   # "balanced, background left out, capped at 10"

A chapter's table is shown as pandas renders it; a cell holding a dict prints its repr, cut
after 50 characters (``{'method': 'balanced', 'ignore_background': Tr...``), and a float prints
six decimals. `readable` makes both what a reader can take in at a glance.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

DECIMALS = 3  # an IoU to a tenth of a point, finer than any gap three seeds can tell (chapter 15)


def weights_in_words(weights: Mapping[str, Any] | Sequence[float] | None) -> str:
    """An experiment's `class_weights` as a reader says them.

    Args:
        weights: None (no weights); five per-class weights; or a method mapping such as
            ``{"method": "balanced", "ignore_background": True, "cap": 10.0}``.

    Examples:

    >>> from marslib.analysis.tables import weights_in_words
    >>> weights_in_words(None)
    'none'
    >>> weights_in_words({"method": "balanced", "ignore_background": True, "cap": 10.0})
    'balanced, background left out, capped at 10'
    >>> weights_in_words([0.0, 1.0, 1.25, 2.5, 10.0])
    '0, 1, 1.25, 2.5, 10'
    """
    if weights is None:
        return "none"
    if isinstance(weights, Mapping):
        words = [str(weights.get("method", "computed"))]
        if weights.get("ignore_background"):
            words.append("background left out")
        if weights.get("cap") is not None:
            words.append(f"capped at {_number(weights['cap'])}")
        rest = {k: v for k, v in weights.items() if k not in ("method", "ignore_background", "cap")}
        words += [f"{key} {_cell(value)}" for key, value in rest.items()]
        return ", ".join(words)
    return ", ".join(_number(value) for value in weights)


def _number(value: float) -> str:
    """`value` rounded to `DECIMALS`, without trailing zeros."""
    return f"{round(float(value), DECIMALS):g}"


def _cell(value: Any) -> Any:
    """A cell's value as a reader reads it: dicts and sequences in words, floats rounded."""
    if isinstance(value, Mapping):
        if "method" in value:
            return weights_in_words(value)
        return ", ".join(f"{key} {_cell(item)}" for key, item in value.items())
    if isinstance(value, (list, tuple, np.ndarray)):
        return ", ".join(str(_cell(item)) for item in value)
    if isinstance(value, (float, np.floating)) and not isinstance(value, bool):
        return round(float(value), DECIMALS)
    return value


def readable(
    frame: pd.DataFrame,
    decimals: int = DECIMALS,
    *,
    percent: Collection[Any] | bool = (),
    whole: Collection[Any] = (),
) -> pd.DataFrame:
    """`frame` with its float columns rounded to `decimals` and every dict, list, tuple or array
    cell written out in words (`weights_in_words` for class weights).

    Args:
        frame: the table to show; it is left as it was.
        decimals: the decimals of a float (3: an IoU to a tenth of a point).
        percent: the columns that hold shares (a pixel share, a precision), written as
            percentages with one decimal ("2.9%"); True for every numeric column.
        whole: the columns that hold counts stored as floats (parameters, images), written
            without decimals.

    Examples:

    >>> import pandas as pd
    >>> from marslib.analysis.tables import readable
    >>> frame = pd.DataFrame({"val mIoU": [0.597482], "class weights": [{"method": "balanced"}]})
    >>> print(readable(frame).to_string(index=False))
     val mIoU class weights
        0.597      balanced
    >>> shares = pd.DataFrame({"images": [2003.0], "Big Rock share": [0.001451]})
    >>> print(readable(shares, percent=["Big Rock share"], whole=["images"]).to_string(index=False))
     images Big Rock share
       2003           0.1%
    """
    shown = frame.copy()
    for column in shown.columns:
        numeric = pd.api.types.is_numeric_dtype(shown[column])
        if (
            numeric
            and not pd.api.types.is_bool_dtype(shown[column])
            and (percent is True or (percent is not False and column in percent))
        ):
            shown[column] = pd.Series(
                [None if pd.isna(value) else f"{value:.1%}" for value in shown[column]],
                index=shown.index,
                dtype=object,
            )
        elif numeric and column in whole:
            shown[column] = shown[column].round().astype("Int64")
        elif pd.api.types.is_float_dtype(shown[column]):
            shown[column] = shown[column].round(decimals)
        elif shown[column].dtype == object:
            shown[column] = pd.Series(
                [_cell(value) for value in shown[column]], index=shown.index, dtype=object
            )
    return shown
