"""Loss specs: a loss named in a string, parsed and checked without building anything.

A spec is one term or several joined by "+", each optionally preceded by a weight and "*":

    "scce"                      sparse categorical cross-entropy
    "weighted_scce"             the same with per-class weights (class_weights=...)
    "weighted_focal+scce"       weighted focal loss plus cross-entropy without weights
    "0.5*dice+0.5*focal"        Dice and focal loss, half each

A "weighted_" term uses the class weights; the others ignore them. Options (``gamma`` for
focal terms, ``smooth`` for Dice terms) go to every term that takes them. `check` validates a
spec with its weights and options; `marslib.training.experiment` calls it when an experiment is
made (no TensorFlow needed) and `marslib.losses.get` before it builds the loss.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from marslib.core.classes import NUM_CLASSES

WEIGHTED_PREFIX = "weighted_"
BASE_NAMES: tuple[str, ...] = ("scce", "focal", "dice")
OPTION_TERMS: dict[str, str] = {
    "gamma": "focal",
    "smooth": "dice",
}  # option -> the term that takes it


def names() -> list[str]:
    """The term names a spec can use: "scce", "weighted_scce", "focal", "weighted_focal", "dice",
    "weighted_dice"."""
    return [prefix + base for base in BASE_NAMES for prefix in ("", WEIGHTED_PREFIX)]


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
        raise ValueError(
            f"the weight {weight_text.strip()!r} of {name!r} in spec {spec!r} is not a number"
        ) from error
    if not np.isfinite(weight) or weight <= 0:
        raise ValueError(
            f"the weight of {name!r} in spec {spec!r} must be a positive number, got {weight}"
        )
    return weight, name


def terms(spec: str) -> list[tuple[float, str]]:
    """The weighted terms of a spec:
    "weighted_focal+0.5*dice" -> [(1.0, "weighted_focal"), (0.5, "dice")].

    Raises:
        ValueError: an empty or malformed spec, or an unknown name.
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(
            f"a loss spec must be a non-empty string such as 'weighted_focal+scce', got {spec!r}"
        )
    return [_parse_term(term, spec) for term in spec.strip().lower().split("+")]


def check(spec: str, *, weighted: bool, options: Iterable[str] = ()) -> list[tuple[float, str]]:
    """Parse `spec` and check it against what comes with it.

    Args:
        spec: a loss spec (see the module docstring).
        weighted: whether class weights come with it.
        options: the names of the options given (``gamma``, ``smooth``).

    Returns:
        `terms(spec)`.

    Raises:
        ValueError: a malformed spec; a "weighted_" term without class weights, or class weights
            with no "weighted_" term to use them; an unknown option, or one no term takes.
    """
    parsed = terms(spec)
    wanting = [name for _, name in parsed if name.startswith(WEIGHTED_PREFIX)]
    if wanting and not weighted:
        raise ValueError(
            f"{wanting} in loss {spec!r} need class_weights (5 numbers, one per class), got none"
        )
    if weighted and not wanting:
        raise ValueError(
            f"class_weights were given but loss {spec!r} has no 'weighted_' term to use them"
        )
    bases = {name.removeprefix(WEIGHTED_PREFIX) for _, name in parsed}
    for option in options:
        if option not in OPTION_TERMS:
            raise ValueError(f"unknown loss option {option!r}; known options: {list(OPTION_TERMS)}")
        if OPTION_TERMS[option] not in bases:
            raise ValueError(f"option {option!r} applies to no term of loss {spec!r}")
    return parsed


def check_class_weights(class_weights: Sequence[float] | np.ndarray) -> tuple[float, ...]:
    """Validate per-class weights.

    Args:
        class_weights: 5 finite, non-negative numbers (list, tuple or array (5,)),
            at least one positive.

    Returns:
        The weights as a tuple of 5 Python floats (what a saved config stores).

    Raises:
        ValueError: not 5 numbers, a weight that is not finite, a negative weight, or all zero.
    """
    try:
        weights = np.asarray(class_weights, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"class_weights must be {NUM_CLASSES} numbers, got {class_weights!r}"
        ) from error
    if weights.shape != (NUM_CLASSES,):
        raise ValueError(
            f"class_weights must hold {NUM_CLASSES} numbers (one per class), "
            f"got shape {weights.shape}"
        )
    if not np.all(np.isfinite(weights)):
        raise ValueError(f"class_weights must be finite, got {weights.tolist()}")
    if np.any(weights < 0):
        raise ValueError(f"class_weights must be non-negative, got {weights.tolist()}")
    if not np.any(weights > 0):
        raise ValueError("class_weights are all zero: at least one class must count")
    return tuple(float(w) for w in weights)


# Each term's name in a table, as the report writes it.
LABELS: dict[str, str] = {"scce": "SCCE", "focal": "Focal", "dice": "Dice"}


def label(spec: str) -> str:
    """The report's way of naming a loss spec: "weighted_scce" -> "Weighted SCCE",
    "weighted_focal+scce" -> "W. Focal+SCCE", "0.5*dice+0.5*focal" -> "0.5*Dice+0.5*Focal".

    Raises:
        ValueError: a malformed spec or an unknown name (see `terms`).
    """
    parsed = terms(spec)
    labels = []
    for weight, name in parsed:
        base = name.removeprefix(WEIGHTED_PREFIX)
        prefix = ("W. " if len(parsed) > 1 else "Weighted ") if name != base else ""
        factor = "" if weight == 1.0 else f"{weight:g}*"
        labels.append(f"{factor}{prefix}{LABELS[base]}")
    return "+".join(labels)
