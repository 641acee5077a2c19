"""The one-sided rate of an optimum as one bound moves: what every price this tool shows is.

A price is d(optimum)/d(bound) in the direction its words state: a cap raised, a floor lowered,
one more SOV point. An LP's dual is that rate only where the optimum's duals are unique; at a
degenerate vertex (a floor pinned at its own level, an end of the frontier) any value between the
two one-sided rates is a dual, and a solver returns one of them. So ``one_sided`` checks a dual
against a re-solve a small step ahead and, where they disagree, measures the rate from re-solves
whose step shrinks until two agree. Where none settles, the rate is too steep to quote as a rate:
a finite step and what it changes are given instead; where no step ahead has a plan, there is no
rate at all (the far end of a frontier).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from optimizer.model.compile import CompiledModel

ValueAt = Callable[[float], "float | None"]
"""The optimum with the bound moved by a step (in the stated direction); None when no plan exists there."""

_AGREE = 1e-3
"""Two secants a shrink apart this close (relative) have settled on the rate."""
_DUAL_AGREE = 1e-2
"""A secant this close (relative) below a dual confirms it: an LP's optimum is concave in a bound it
relaxes, so each secant ahead lies at or below the one-sided rate and the dual at or above it."""
_SHRINK = 4.0
_TRIES = 4
NOISE = 1e-9
_INSIDE = 1e-9
"""A value this close (relative) to a bound is on it."""
"""A re-solved optimum's round-off, relative to the objective's size."""


@dataclass(frozen=True)
class Rate:
    """What ``one_sided`` measured.

    ``rate``: d(optimum)/d(move) per unit of the move (None: steep, or no plan ahead). Where it is
    None, ``step`` and ``change`` give a finite move that has a plan and what it changes the
    optimum by (both None when no step ahead has a plan).
    """

    rate: float | None
    step: float | None = None
    change: float | None = None
    confirmed: bool = False
    """The rate is the dual given, which a re-solve agreed with."""

    @property
    def ahead(self) -> bool:
        """Whether any step ahead has a plan."""
        return self.rate is not None or self.step is not None


def one_sided(value_at: ValueAt, base: float, first_step: float, quoted_step: float,
              dual: float | None = None, scale: float = 0.0) -> Rate:
    """The optimum's one-sided rate as the bound moves ahead from where ``base`` was solved.

    ``first_step`` is the first re-solve's move (small against the bound's own size, large against
    round-off); ``quoted_step`` is the step the price is quoted per (an SOV point, $1 of a cap),
    the finite step given when the rate is steep. ``dual`` is the solver's rate, accepted when a
    re-solve agrees with it; ``scale`` is the objective's size (round-off below it is no difference).
    """
    noise = NOISE * max(abs(base), scale, 1e-300)
    step, last = first_step, None
    largest: tuple[float, float] | None = None
    for _ in range(_TRIES):
        value = value_at(step)
        if value is not None:
            secant = (value - base) / step
            if dual is not None and agree(secant, dual, noise / step, _DUAL_AGREE):
                return Rate(dual, confirmed=True)
            if last is not None and agree(secant, last, noise / step, _AGREE):
                return Rate(secant + (secant - last) / (_SHRINK - 1))  # the secants' trend, run on to a step of 0
            last = secant
            largest = largest or (step, value - base)
        step /= _SHRINK
    if largest is None:
        return Rate(None)
    quoted = value_at(quoted_step) if quoted_step > largest[0] else None
    return Rate(None, quoted_step, quoted - base) if quoted is not None else Rate(None, *largest)


def duals_unique(model: CompiledModel, x: np.ndarray) -> bool:
    """Whether ``x``, an optimal vertex of the LP ``model``, is nondegenerate: exactly as many of its
    variables, each row's slack counted, lie strictly inside their bounds as the program has rows.

    Then its duals are the only ones, and each price they give is the one-sided rate in either
    direction; otherwise (a floor pinned at its own level, an end of a frontier, a tie) they are one
    choice among many, and prices must be measured.
    """
    columns = _strictly_inside(x, model.col_lower, model.col_upper)
    activity = model.matrix @ x
    rows = _strictly_inside(activity, model.row_lower, model.row_upper)
    return columns + rows == model.shape[0]


def _strictly_inside(value: np.ndarray, lower: np.ndarray, upper: np.ndarray) -> int:
    slack = _INSIDE * np.maximum(1.0, np.abs(value))
    return int(np.count_nonzero((value > lower + slack) & (value < upper - slack)))


def agree(a: float, b: float, slack: float, within: float) -> bool:
    """Whether two rates are one: ``within`` of each other (relative), or ``slack`` apart (round-off)."""
    return abs(a - b) <= within * max(abs(a), abs(b)) + 2 * slack
