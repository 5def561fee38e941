"""Losses by name (`marslib.losses.spec` says how a spec reads), so that an experiment can name its
loss in a string."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from marslib.losses.combined import WeightedSum
from marslib.losses.crossentropy import SparseCrossentropy, SparseFocalCrossentropy
from marslib.losses.dice import SoftDice
from marslib.losses.spec import OPTION_TERMS, WEIGHTED_PREFIX, check

_BASE: dict[str, type] = {
    "scce": SparseCrossentropy,
    "focal": SparseFocalCrossentropy,
    "dice": SoftDice,
}


def get(
    spec: str,
    class_weights: Sequence[float] | np.ndarray | None = None,
    **options: float,
) -> keras.losses.Loss:
    """Build the loss a spec names (see `marslib.losses.spec`).

    Args:
        spec: e.g. "scce", "weighted_scce", "dice", "focal", "weighted_focal+scce",
            "0.3*dice+0.7*focal".
        class_weights: 5 non-negative weights indexed by class, required by (and only allowed with)
            "weighted_" terms; weight 0 ignores a class (e.g. background).
        **options: ``gamma`` (focal terms, default 2) and ``smooth`` (Dice terms, default 1).

    Returns:
        A single loss for a single term of weight 1, else a `WeightedSum` of the terms. Every loss
        takes sparse labels (B, H, W) and probabilities (B, H, W, 5) and returns a float32 scalar.

    Raises:
        ValueError: an empty or malformed spec, an unknown name, a weighted term without
            class_weights (or class_weights with none), invalid class_weights,
            or an option no term takes.
    """
    parsed = check(spec, weighted=class_weights is not None, options=options)
    losses = []
    for _, name in parsed:
        base = name.removeprefix(WEIGHTED_PREFIX)
        kwargs = {key: value for key, value in options.items() if OPTION_TERMS[key] == base}
        if name.startswith(WEIGHTED_PREFIX):
            kwargs["class_weights"] = class_weights
        losses.append(_BASE[base](name=name, **kwargs))
    if len(losses) == 1 and parsed[0][0] == 1.0:
        return losses[0]
    return WeightedSum(losses, [weight for weight, _ in parsed])
