"""The Lagrangian dual of a folded program, tightened over its few coupling rows' duals.

``lagrangian_bound`` bounds a program for any duals of its coupling rows. Here it is made as
tight as it gets: the bound is a convex function of those few duals (a handful of rows: budget,
floors, caps), minimised by cutting planes inside a trust region, each plane one numpy pass over
the segments. For an LP, its least value is the LP's optimum (strong duality); for a MILP whose
S-curve campaigns fill their segments in order, it is at least the MILP's optimum and, with many
campaigns and few rows, close to it. Every value it reports is a proven bound, converged or not.
"""

from __future__ import annotations

from dataclasses import dataclass

import highspy
import numpy as np

from optimizer.solver.certificate import NEGLIGIBLE
from optimizer.solver.highs import new_highs
from optimizer.solver.reduced import Fold, lagrangian

_STEPS = 80
_CONVERGED = 1e-6
"""Done when the planes promise less than this share of the bound below the current one, with
their least inside the trust region (not on one of its faces)."""
_OF_GAP = 0.01
_SCALES = 2.0 ** np.arange(1, -7, -1)
_SERIOUS = 0.1
"""A step is taken when it gains this share of what the planes promised (else the region shrinks)."""


@dataclass(frozen=True)
class DualBound:
    """The tightest bound found, the duals that give it, and whether the minimisation reached its
    end (the bound within ``_CONVERGED`` of the least any duals give, or, measured against a plan,
    the gap known to 1%)."""

    value: float
    duals: np.ndarray
    converged: bool


def tightest_bound(folded: Fold, duals: np.ndarray, steps: int = _STEPS, against: float | None = None) -> DualBound:
    """The Lagrangian bound of ``folded`` minimised (when maximising; maximised when minimising)
    over its coupling rows' duals, from ``duals`` (a solve's: near the best, the fewer steps).

    ``against``: a plan's value the bound certifies; the minimisation then ends once the planes
    promise less than ``_OF_GAP`` of the bound's distance from it (a gap is then known to 1%).
    """
    sense = 1.0 if folded.model.sense == "maximize" else -1.0
    low, high = _dual_signs(folded, sense)
    planes = _Planes(folded.coupling)
    best = (np.inf, np.zeros(folded.coupling))
    for y in _scaled(np.clip(np.asarray(duals[: folded.coupling], dtype=float), low, high)):
        value, slope = _bound(folded, y, sense)
        planes.add(y, value, slope)
        best = min(best, (value, y), key=lambda item: item[0])
    value, centre = best
    region = _first_region(folded, centre)
    floor = NEGLIGIBLE * _objective_scale(folded)
    for _ in range(steps):
        if not np.isfinite(value):
            break
        trial, promised = planes.least(np.maximum(low, centre - region), np.minimum(high, centre + region))
        if trial is None:
            break
        on_edge = _on_edge(trial, centre, region, low, high)
        if value - promised <= _enough(value, sense, against, floor):
            if not on_edge:  # the planes' least value anywhere: no duals give a bound below it
                return _result(best, sense, folded, True)
            region = region * 4.0
            continue
        trial_value, trial_slope = _bound(folded, trial, sense)
        planes.add(trial, trial_value, trial_slope)
        if trial_value < best[0]:
            best = (trial_value, trial)
        if value - trial_value >= _SERIOUS * (value - promised):
            centre, value = trial, trial_value
            region = region * 2.0 if on_edge else region
        else:
            region = region * 0.5
    return _result(best, sense, folded, False)


def _on_edge(trial: np.ndarray, centre: np.ndarray, region: np.ndarray, low: np.ndarray, high: np.ndarray) -> bool:
    """Whether ``trial`` lies on a face of the trust region (not where a dual's sign clips it)."""
    upper, lower = centre + region, centre - region
    on_upper = (upper < high) & np.isclose(trial, upper, rtol=1e-9, atol=0.0)
    on_lower = (lower > low) & np.isclose(trial, lower, rtol=1e-9, atol=0.0)
    return bool(np.any((on_upper | on_lower) & (region > 0)))


def _enough(value: float, sense: float, against: float | None, floor: float) -> float:
    """How far the planes may still promise to go below ``value`` (in the minimised sense) when done;
    ``floor``: the least that counts, for a bound near 0."""
    enough = _CONVERGED * max(abs(value), floor)
    if against is not None:
        enough = max(enough, _OF_GAP * (value - sense * against))
    return enough


def _scaled(duals: np.ndarray) -> list[np.ndarray]:
    """Where the first planes go: ``duals`` scaled by powers of two, the best of them to start from
    (at a frontier's far end a plan's duals were 18 times the outer program's best, far for planes to go)."""
    return [factor * duals for factor in _SCALES] if duals.any() else [duals]


def _bound(folded: Fold, y: np.ndarray, sense: float) -> tuple[float, np.ndarray]:
    """The bound in the minimised sense (``sense`` times it) and its slope, at coupling duals ``y``."""
    value, slope = lagrangian(folded, y)
    return sense * value, sense * slope


def _dual_signs(folded: Fold, sense: float) -> tuple[np.ndarray, np.ndarray]:
    """Each row's allowed duals: pricing a finite upper side takes ``sense * y > 0``, a finite lower
    side ``sense * y < 0``; a row with neither is not priced."""
    up, down = np.isfinite(folded.row_upper), np.isfinite(folded.row_lower)
    positive = up if sense > 0 else down
    negative = down if sense > 0 else up
    return np.where(negative, -np.inf, 0.0), np.where(positive, np.inf, 0.0)


def _first_region(folded: Fold, centre: np.ndarray) -> np.ndarray:
    """The trust region's first half-widths: each dual's own size, or its row's typical dual when
    larger; never 0, or a row could not move."""
    cost = np.abs(folded.cost) @ (folded.segment_upper - folded.segment_lower)
    activity = abs(folded.terms) @ (folded.segment_upper - folded.segment_lower)
    typical = np.where(activity > 0, cost / np.maximum(activity, 1e-300), 0.0)  # objective per unit of the row
    region = np.maximum(np.abs(centre), typical)
    fallback = region.max(initial=0.0) or 1.0
    return np.where(region > 0, region, fallback)


def _objective_scale(folded: Fold) -> float:
    """The objective's scale: every segment's cost over its whole width, and the constant."""
    return float(np.abs(folded.cost) @ (folded.segment_upper - folded.segment_lower)) + abs(folded.constant)


class _Planes:
    """The cutting planes, kept in one HiGHS instance: variables ``(y, t)``, minimise ``t`` with
    ``t >= value_k + slope_k . (y - y_k)`` for each plane ``k``; each new plane is a row, each run
    warm from the last (scipy's ``linprog`` took 2.6 ms a run, most of the minimisation at 1,000
    campaigns)."""

    def __init__(self, size: int):
        self._size = size
        self._duals = np.arange(size, dtype=np.int32)
        self._all = np.arange(size + 1, dtype=np.int32)
        self._highs = new_highs()
        infinite = np.full(size + 1, highspy.kHighsInf)
        self._highs.addVars(size + 1, -infinite, infinite)
        self._highs.changeColCost(size, 1.0)

    def add(self, y: np.ndarray, value: float, slope: np.ndarray) -> None:
        """The plane through ``value`` at ``y`` with ``slope``."""
        if not np.isfinite(value) or not np.all(np.isfinite(slope)):
            return
        self._highs.addRow(-highspy.kHighsInf, float(slope @ y - value), self._size + 1, self._all, np.r_[slope, -1.0])

    def least(self, low: np.ndarray, high: np.ndarray) -> tuple[np.ndarray | None, float]:
        """Where the planes' maximum is least inside ``[low, high]``, and that least value."""
        self._highs.changeColsBounds(self._size, self._duals, low, high)  # HiGHS's infinity is inf
        self._highs.run()
        if self._highs.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None, np.nan
        values = np.array(self._highs.getSolution().col_value)
        return values[: self._size], float(values[self._size])


def _result(best: tuple[float, np.ndarray], sense: float, folded: Fold, converged: bool) -> DualBound:
    duals = np.zeros(folded.model.shape[0])
    duals[: folded.coupling] = best[1]
    return DualBound(sense * best[0], duals, converged)
