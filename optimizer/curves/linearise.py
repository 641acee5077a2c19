"""Piecewise-linear approximations of response curves, with error bounds.

``breakpoints`` places a grid so that the chord through consecutive breakpoints never
strays from the curve by more than a tolerance (a fraction of the curve's range over the
interval). Because the grid includes every point where the curvature changes sign, each
segment is purely concave, convex or straight, and three estimates follow exactly:

* the **chord** (through the curve's values at the breakpoints),
* the **upper envelope** (at or above the curve everywhere): the chord on convex segments,
  the two end tangents on concave ones,
* the **lower envelope** (at or below the curve everywhere): the mirror image.

The model uses the envelope that keeps the plan feasible on the exact curves, and the
opposite one to bound the true optimum from above.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np

from optimizer.curves.batch import (
    DEFAULT_TOLERANCE,
    LinearisationError,
    chord_gaps,
    many_breakpoints,
    many_estimates,
    quartered_starts,
)
from optimizer.curves.families import Curve
from optimizer.curves.stacks import CurveStack

__all__ = ["DEFAULT_TOLERANCE", "Estimate", "LinearisationError", "Piecewise", "breakpoints", "chord", "chord_gaps",
           "envelope", "estimate", "tighten_start"]

Estimate = Literal["chord", "upper", "lower"]


@dataclass(frozen=True)
class Piecewise:
    """A piecewise-linear function through ``(xs[k], ys[k])``."""

    xs: np.ndarray
    ys: np.ndarray

    def at(self, spend: np.ndarray) -> np.ndarray:
        """The function's values at ``spend`` (inside ``[xs[0], xs[-1]]``)."""
        return np.interp(spend, self.xs, self.ys)


def breakpoints(curve: Curve, lo: float, hi: float, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """A grid on ``[lo, hi]`` whose chords stay within ``tolerance`` x the curve's range.

    The grid contains ``lo``, ``hi`` and every break of the curve between them; segments
    whose chord error is too large are split where the error peaks.
    """
    return many_breakpoints([curve], [lo], [hi], tolerance)[0]


def tighten_start(curve: Curve, grid: np.ndarray, target: float, narrowest: float = 0.0) -> np.ndarray:
    """Shrink the first segment until lifting the start onto the far end's tangent costs <= ``target``.

    Where the slope at the start is vertical (power and Hill curves at zero spend), the upper
    envelope starts at ``f(b) - f'(b) (b - lo)`` rather than ``f(lo)``; a short first segment
    keeps that lift small.
    """
    if grid.size < 2 or not np.isinf(curve.marginal(grid[0])):
        return grid
    _, added = quartered_starts(CurveStack.of([curve]), grid[:1], grid[1:2], grid[-1:], np.array([target]), narrowest)
    return np.union1d(grid, added)


def chord(curve: Curve, grid: np.ndarray) -> Piecewise:
    """The chord approximation through the curve's values at ``grid``."""
    return Piecewise(grid, curve.value(grid))


def envelope(curve: Curve, grid: np.ndarray, side: Literal["upper", "lower"]) -> Piecewise:
    """A piecewise-linear function on ``grid`` (plus tangent corners) on ``side`` of the curve.

    On segments where the chord lies on the wrong side, the two end tangents are used; their
    intersection becomes an extra corner. A vertical tangent at the start of the grid
    (power or Hill curves at zero spend) is replaced by lifting the start onto the other
    end's tangent, which keeps the function continuous and on the right side.
    """
    _, xs, ys = many_estimates(CurveStack.of([curve]), np.array([side]), np.zeros(grid.size, dtype=np.int64),
                               np.asarray(grid, dtype=float))
    return Piecewise(xs, ys)


def estimate(curve: Curve, grid: np.ndarray, kind: Estimate) -> Piecewise:
    """The chord or one of the envelopes of ``curve`` on ``grid``."""
    return chord(curve, grid) if kind == "chord" else envelope(curve, grid, kind)
