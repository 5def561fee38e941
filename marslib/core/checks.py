"""Argument checks shared by every layer: each raises a ValueError that names the argument,
says what it got and what was expected."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from marslib.core.classes import NUM_CLASSES


def labels(
    name: str,
    array: Any,
    *,
    ndim: int | None = None,
    classes: int = NUM_CLASSES,
    empty: bool = True,
) -> np.ndarray:
    """An integer array of class labels 0..classes-1, returned as a NumPy array (not copied).

    Args:
        name: what the caller calls the argument, for the message (e.g. "masks").
        array: the labels, any shape (with `ndim`: exactly that many dimensions).
        classes: number of classes; the labels must lie in 0..classes-1.
        empty: accept an array without elements.

    Raises:
        ValueError: for another dtype, shape, an empty array (unless allowed)
            or a label out of range.
    """
    array = np.asarray(array)
    if ndim is not None and array.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimensions, got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.integer):
        raise ValueError(f"{name} must hold integer class labels, got dtype {array.dtype}")
    if not array.size:
        if not empty:
            raise ValueError(f"{name} must hold at least one label, got shape {array.shape}")
        return array
    low, high = int(array.min()), int(array.max())
    if low < 0 or high >= classes:
        raise ValueError(
            f"{name} must hold class labels 0..{classes - 1}, got values in {low}..{high}"
        )
    return array


def integer(name: str, value: Any, *, low: int = 1) -> int:
    """`value` as an int, checked to be a whole number (not a bool) of at least `low`."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name} must be an integer of at least {low}, got {value!r}")
    return int(value)


def number(name: str, value: Any, *, low: float = 0.0, high: float = math.inf) -> float:
    """`value` as a float, checked to be a finite real number (not a bool) in [low, high]."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float, np.integer, np.floating))
        or not math.isfinite(value)
        or not low <= value <= high
    ):
        bounds = f"at least {low}" if high == math.inf else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be a finite number {bounds}, got {value!r}")
    return float(value)
