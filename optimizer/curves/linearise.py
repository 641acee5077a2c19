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

from optimizer.curves.families import Curve

Estimate = Literal["chord", "upper", "lower"]

DEFAULT_TOLERANCE = 1e-3
_MAX_POINTS = 20_000
_MIN_SPLIT_SHARE = 0.05
_MIN_WIDTH = 1e-200
_TINIEST = 1e-300
"""No segment is split below this fraction of the spend range: the envelopes stay exact anyway."""


class LinearisationError(ValueError):
    """The curve could not be approximated within the tolerance.

    ``index``: which of many curves it was, when grids are built together (``many_breakpoints``).
    """

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


@dataclass(frozen=True)
class Piecewise:
    """A piecewise-linear function through ``(xs[k], ys[k])``."""

    xs: np.ndarray
    ys: np.ndarray

    def at(self, spend: np.ndarray) -> np.ndarray:
        """The function's values at ``spend`` (inside ``[xs[0], xs[-1]]``)."""
        return np.interp(spend, self.xs, self.ys)


def chord_gaps(curve: Curve, lo: np.ndarray, hi: np.ndarray,
               owner: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each segment ``[lo, hi]``: the signed largest gap curve - chord, and where it is.

    Positive where the curve bulges above its chord (concave), negative below (convex).
    Each segment must lie between two of the curve's breaks. With ``owner``, ``curve`` is a
    stack of curves (``CurveStack``) and segment ``k`` belongs to its curve ``owner[k]``.
    """
    on_segments = curve if owner is None else curve.take(owner)
    f_lo, f_hi = on_segments.value(lo), on_segments.value(hi)
    slope = (f_hi - f_lo) / (hi - lo)
    bent = on_segments.curvature((lo + hi) / 2) != 0
    where = (lo + hi) / 2
    gap = np.zeros_like(lo)
    if bent.any():
        on_bent = curve if owner is None else curve.take(owner[bent])
        at = on_bent.tangent_point(slope[bent], lo[bent], hi[bent])
        where[bent] = at
        gap[bent] = on_bent.value(at) - (f_lo[bent] + slope[bent] * (at - lo[bent]))
    return gap, where


def breakpoints(curve: Curve, lo: float, hi: float, tolerance: float = DEFAULT_TOLERANCE) -> np.ndarray:
    """A grid on ``[lo, hi]`` whose chords stay within ``tolerance`` x the curve's range.

    The grid contains ``lo``, ``hi`` and every break of the curve between them; segments
    whose chord error is too large are split where the error peaks.
    """
    inner = [b for b in curve.breaks() if lo < b < hi]
    grid = np.unique(np.array([lo, *inner, hi], dtype=float))
    if hi <= lo:
        return grid[:1]
    target = tolerance * abs(float(curve.value(hi) - curve.value(lo)))
    if target == 0:
        return grid
    narrowest = _MIN_WIDTH * (hi - lo)
    while True:
        a, b = grid[:-1], grid[1:]
        gap, where = chord_gaps(curve, a, b)
        too_far = (np.abs(gap) > target) & (b - a > 2 * narrowest)
        if not too_far.any():
            return tighten_start(curve, grid, target, narrowest)
        width = (b - a)[too_far]
        split = np.clip(where[too_far], a[too_far] + _MIN_SPLIT_SHARE * width, b[too_far] - _MIN_SPLIT_SHARE * width)
        grid = np.union1d(grid, split)
        if grid.size > _MAX_POINTS:
            raise too_many_points(curve, lo, hi, tolerance)


def too_many_points(curve: Curve, lo: float, hi: float, tolerance: float,
                    index: int | None = None) -> LinearisationError:
    """The error for a grid that would pass ``_MAX_POINTS`` (``index``: see ``LinearisationError``)."""
    return LinearisationError(
        f"{curve.describe()} needs more than {_MAX_POINTS:,} segments on [{lo:,.2f}, {hi:,.2f}] "
        f"to stay within {tolerance:.3g} of its range; loosen the tolerance or narrow the spend range",
        index,
    )


def tighten_start(curve: Curve, grid: np.ndarray, target: float, narrowest: float = 0.0) -> np.ndarray:
    """Shrink the first segment until lifting the start onto the far end's tangent costs <= ``target``.

    Where the slope at the start is vertical (power and Hill curves at zero spend), the upper
    envelope starts at ``f(b) - f'(b) (b - lo)`` rather than ``f(lo)``; a short first segment
    keeps that lift small.
    """
    lo = grid[0]
    while grid.size > 1 and np.isinf(curve.marginal(lo)) and grid[1] - lo > max(narrowest, _TINIEST * grid[-1]):
        first = grid[1]
        lift = float(curve.value(first) - curve.marginal(first) * (first - lo) - curve.value(lo))
        if lift <= target:
            break
        grid = np.insert(grid, 1, lo + (first - lo) / 4)
    return grid


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
    values = curve.value(grid)
    if grid.size < 2:
        return Piecewise(grid, values)
    a, b = grid[:-1], grid[1:]
    curvature = curve.curvature((a + b) / 2)
    wrong_side = curvature < 0 if side == "upper" else curvature > 0
    idx = np.flatnonzero(wrong_side)
    if idx.size == 0:
        return Piecewise(grid, values)
    f_a, f_b = values[idx], values[idx + 1]
    d_a, d_b = curve.marginal(a[idx]), curve.marginal(b[idx])
    ys = values.copy()
    vertical = np.isinf(d_a)
    if vertical.any():
        first = idx[vertical]
        # Only the first grid point can carry a vertical tangent (spend 0 of a power/Hill curve).
        ys[first] = f_b[vertical] - d_b[vertical] * (b[first] - a[first])
    turn = ~vertical & (np.abs(d_a - d_b) > 1e-12 * np.maximum(np.abs(d_a), np.abs(d_b)))
    seg = idx[turn]
    corner_x = (f_b[turn] - f_a[turn] + d_a[turn] * a[seg] - d_b[turn] * b[seg]) / (d_a[turn] - d_b[turn])
    corner_x = np.clip(corner_x, a[seg], b[seg])
    corner_y = f_a[turn] + d_a[turn] * (corner_x - a[seg])
    xs = np.concatenate([grid, corner_x])
    order = np.argsort(xs, kind="stable")
    return Piecewise(xs[order], np.concatenate([ys, corner_y])[order])


def estimate(curve: Curve, grid: np.ndarray, kind: Estimate) -> Piecewise:
    """The chord or one of the envelopes of ``curve`` on ``grid``."""
    return chord(curve, grid) if kind == "chord" else envelope(curve, grid, kind)
