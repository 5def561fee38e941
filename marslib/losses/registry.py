"""Losses by name, so that an experiment can name its loss in a string.

A spec is one term or several joined by "+", each optionally preceded by a weight and "*":

    "scce"                      sparse categorical cross-entropy
    "weighted_scce"             the same with per-class weights (class_weights=...)
    "weighted_focal+scce"       the report's best: weighted focal loss plus plain cross-entropy
    "0.5*dice+0.5*focal"        Dice and focal loss, half each

A "weighted_" term uses the `class_weights` given to `get`; the others ignore them. Options
(``gamma`` for focal terms, ``smooth`` for Dice terms) go to every term that takes them.
"""

from __future__ import annotations

from collections.abc import Sequence

import keras
import numpy as np

from marslib.losses.combined import WeightedSum
from marslib.losses.crossentropy import SparseCrossentropy, SparseFocalCrossentropy
from marslib.losses.dice import SoftDice

WEIGHTED_PREFIX = "weighted_"
_BASE: dict[str, type] = {"scce": SparseCrossentropy, "focal": SparseFocalCrossentropy, "dice": SoftDice}
_OPTIONS: dict[str, type] = {"gamma": SparseFocalCrossentropy, "smooth": SoftDice}


def names() -> list[str]:
    """The term names a spec can use: "scce", "weighted_scce", "focal", "weighted_focal", "dice", "weighted_dice"."""
    return [prefix + base for base in _BASE for prefix in ("", WEIGHTED_PREFIX)]


def _parse_term(term: str, spec: str) -> tuple[float, str]:
    """'0.5*dice' -> (0.5, 'dice'); 'scce' -> (1.0, 'scce')."""
    weight_text, star, name = term.rpartition("*")
    name = name.strip()
    if name not in names():
        raise ValueError(f"unknown loss {name!r} in spec {spec!r}; known losses: {names()}")
    if not star:
        return 1.0, name
    try:
        weight = float(weight_text)
    except ValueError as error:
        raise ValueError(f"the weight {weight_text.strip()!r} of {name!r} in spec {spec!r} is not a number") from error
    if not np.isfinite(weight) or weight <= 0:
        raise ValueError(f"the weight of {name!r} in spec {spec!r} must be a positive number, got {weight}")
    return weight, name


def terms(spec: str) -> list[tuple[float, str]]:
    """The weighted terms of a spec: "weighted_focal+0.5*dice" -> [(1.0, "weighted_focal"), (0.5, "dice")].

    Raises:
        ValueError: an empty or malformed spec, or an unknown name.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"a loss spec must be a non-empty string such as 'weighted_focal+scce', got {spec!r}")
    return [_parse_term(term, spec) for term in spec.strip().lower().split("+")]


def get(
    spec: str,
    class_weights: Sequence[float] | np.ndarray | None = None,
    **options: float,
) -> keras.losses.Loss:
    """Build the loss a spec names (see the module docstring).

    Args:
        spec: e.g. "scce", "weighted_scce", "dice", "focal", "weighted_focal+scce", "0.3*dice+0.7*focal".
        class_weights: 5 non-negative weights indexed by class, required by (and only allowed with)
            "weighted_" terms; weight 0 ignores a class (e.g. background).
        **options: ``gamma`` (focal terms, default 2) and ``smooth`` (Dice terms, default 1).

    Returns:
        A single loss for a single term of weight 1, else a `WeightedSum` of the terms. Every loss
        takes sparse labels (B, H, W) and probabilities (B, H, W, 5) and returns a float32 scalar.

    Raises:
        ValueError: an empty or malformed spec, an unknown name, a weighted term without
            class_weights (or class_weights with none), invalid class_weights, or an option no term takes.
    """
    parsed = terms(spec)
    weighted = [name for _, name in parsed if name.startswith(WEIGHTED_PREFIX)]
    if weighted and class_weights is None:
        raise ValueError(f"{weighted} need class_weights (5 numbers, one per class), got none")
    if class_weights is not None and not weighted:
        raise ValueError(f"class_weights were given but spec {spec!r} has no 'weighted_' term to use them")
    for option in options:
        if option not in _OPTIONS:
            raise ValueError(f"unknown loss option {option!r}; known options: {list(_OPTIONS)}")
        if not any(_BASE[name.removeprefix(WEIGHTED_PREFIX)] is _OPTIONS[option] for _, name in parsed):
            raise ValueError(f"option {option!r} applies to no term of spec {spec!r}")
    losses = []
    for _, name in parsed:
        base = name.removeprefix(WEIGHTED_PREFIX)
        kwargs = {key: value for key, value in options.items() if _OPTIONS[key] is _BASE[base]}
        if name in weighted:
            kwargs["class_weights"] = class_weights
        losses.append(_BASE[base](name=name, **kwargs))
    if len(losses) == 1 and parsed[0][0] == 1.0:
        return losses[0]
    return WeightedSum(losses, [weight for weight, _ in parsed])
