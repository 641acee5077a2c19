"""Response curves and their piecewise-linear approximations."""

from optimizer.curves.batch import many_breakpoints
from optimizer.curves.families import FAMILIES, Curve, Exponential, Hill, Linear, Log, Power, Tabular
from optimizer.curves.linearise import (
    DEFAULT_TOLERANCE,
    LinearisationError,
    Piecewise,
    breakpoints,
    chord,
    chord_gaps,
    envelope,
    estimate,
)

__all__ = [
    "DEFAULT_TOLERANCE",
    "FAMILIES",
    "Curve",
    "Exponential",
    "Hill",
    "Linear",
    "LinearisationError",
    "Log",
    "Piecewise",
    "Power",
    "Tabular",
    "breakpoints",
    "chord",
    "chord_gaps",
    "envelope",
    "estimate",
    "many_breakpoints",
]
