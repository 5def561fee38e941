"""The one type every benchmark returns: a printed figure with its unit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measurement:
    """One printed figure, e.g. Measurement("hand-written flips", 5400.0, "images/s")."""

    what: str
    value: float
    unit: str
