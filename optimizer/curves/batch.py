"""Grids for many curves at once: ``breakpoints`` with array operations.

``many_breakpoints(curves, lo, hi, tolerance)[k]`` is the grid ``breakpoints(curves[k], lo[k],
hi[k], tolerance)`` builds, with the same guarantee (every chord within ``tolerance`` x the
curve's range, every break of the curve included) and the same splits: each decision is the
same arithmetic, done element by element. The curves are stacked (``CurveStack``) and the
segments of all of them are measured and split together, so a thousand campaigns cost a few
dozen array operations rather than a few dozen each.

A segment that was not split is not measured again (its chord error has not changed), and a
request repeated (the same curve on the same range) is computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from optimizer.curves.families import Curve
from optimizer.curves.linearise import (
    _MAX_POINTS,
    _MIN_SPLIT_SHARE,
    _MIN_WIDTH,
    _TINIEST,
    DEFAULT_TOLERANCE,
    chord_gaps,
    too_many_points,
)
from optimizer.curves.stacks import CurveStack


def many_breakpoints(curves: Sequence[Curve], lo: ArrayLike, hi: ArrayLike,
                     tolerance: float = DEFAULT_TOLERANCE) -> list[np.ndarray]:
    """For each ``k``, the grid ``breakpoints(curves[k], lo[k], hi[k], tolerance)`` builds.

    Raises the ``LinearisationError`` of the first curve, in order, that needs too many
    segments; its ``index`` says which.
    """
    if not curves:
        return []
    lo, hi = np.asarray(lo, dtype=float).ravel(), np.asarray(hi, dtype=float).ravel()
    first: dict[tuple[Curve, float, float], int] = {}
    same_as = [first.setdefault((curve, float(a), float(b)), k)
               for k, (curve, a, b) in enumerate(zip(curves, lo, hi, strict=True))]
    distinct = np.array(list(first.values()), dtype=np.int64)
    grids, crowded = _grids([curves[k] for k in distinct], lo[distinct], hi[distinct], tolerance)
    if crowded.size:
        k = int(distinct[crowded[0]])
        raise too_many_points(curves[k], float(lo[k]), float(hi[k]), tolerance, k)
    position = np.zeros(len(curves), dtype=np.int64)
    position[distinct] = np.arange(distinct.size)
    return [grids[position[k]] for k in same_as]


def _grids(curves: list[Curve], lo: np.ndarray, hi: np.ndarray,
           tolerance: float) -> tuple[list[np.ndarray], np.ndarray]:
    """The grids of ``breakpoints`` for all curves together, and which curves needed too many segments."""
    stack = CurveStack.of(curves)
    points = _Points.start(curves, lo, hi)
    ranged = np.flatnonzero(hi > lo)
    target = np.zeros(len(curves))
    on_range = stack.take(ranged)
    target[ranged] = tolerance * np.abs(on_range.value(hi[ranged]) - on_range.value(lo[ranged]))
    narrowest = _MIN_WIDTH * (hi - lo)
    points.fresh &= (target > 0)[points.owner]
    crowded = _split_until_close(stack, points, target, narrowest)
    points = _tighten_starts(stack, points, (target > 0) & ~crowded, target, narrowest)
    return points.per_owner(len(curves)), np.flatnonzero(crowded)


@dataclass
class _Points:
    """The grids of many curves as one array, ordered by owner (the curve's position), then spend.

    ``fresh[p]``: the segment from point ``p`` to the next (of the same owner) is yet to be measured.
    """

    owner: np.ndarray
    xs: np.ndarray
    fresh: np.ndarray

    @classmethod
    def start(cls, curves: list[Curve], lo: np.ndarray, hi: np.ndarray) -> _Points:
        """Each curve's range ends and its breaks inside them, as ``breakpoints`` starts; an empty
        range (``hi <= lo``) is the single point ``min(lo, hi)``."""
        inner = [(j, b) for j, curve in enumerate(curves) for b in curve.breaks() if lo[j] < b < hi[j]]
        owners = np.arange(len(curves))
        owner = np.concatenate([owners, owners, np.array([j for j, _ in inner], dtype=int)])
        xs = np.concatenate([np.minimum(lo, hi), hi, np.array([b for _, b in inner], dtype=float)])
        order = np.lexsort((xs, owner))
        owner, xs = owner[order], xs[order]
        distinct = np.ones(xs.size, dtype=bool)
        distinct[1:] = (owner[1:] != owner[:-1]) | (xs[1:] != xs[:-1])
        owner, xs = owner[distinct], xs[distinct]
        fresh = np.zeros(xs.size, dtype=bool)
        fresh[:-1] = owner[1:] == owner[:-1]
        return cls(owner, xs, fresh)

    def per_owner(self, count: int) -> list[np.ndarray]:
        """Each owner's grid, for owners ``0 .. count - 1``."""
        ends = np.cumsum(np.bincount(self.owner, minlength=count))
        return np.split(self.xs, ends[:-1])

    def insert(self, after: np.ndarray, xs: np.ndarray) -> None:
        """Insert ``xs[i]`` right after point ``after[i]`` (ascending, each inside its segment);
        the two segments either side of each new point become fresh."""
        at = after + 1
        self.owner = np.insert(self.owner, at, self.owner[after])
        self.xs = np.insert(self.xs, at, xs)
        placed = at + np.arange(at.size)
        self.fresh = np.insert(np.zeros_like(self.fresh), at, True)
        self.fresh[placed - 1] = True

    def drop_duplicates(self) -> None:
        """Points equal to the one before (of the same owner): a split rounded onto a segment's end."""
        repeated = np.zeros(self.xs.size, dtype=bool)
        repeated[1:] = (self.owner[1:] == self.owner[:-1]) & (self.xs[1:] == self.xs[:-1])
        if repeated.any():
            keep = ~repeated
            self.fresh[np.flatnonzero(repeated) - 1] |= self.fresh[repeated]
            self.owner, self.xs, self.fresh = self.owner[keep], self.xs[keep], self.fresh[keep]


def _split_until_close(stack: CurveStack, points: _Points, target: np.ndarray, narrowest: np.ndarray) -> np.ndarray:
    """Split fresh segments whose chord strays too far where it strays most, until none does.

    Mirrors the loop of ``breakpoints``; returns which owners passed ``_MAX_POINTS`` (their
    segments are left as they were when they did).
    """
    crowded = np.zeros(target.size, dtype=bool)
    while True:
        seg = np.flatnonzero(points.fresh)
        if seg.size == 0:
            return crowded
        a, b, owner = points.xs[seg], points.xs[seg + 1], points.owner[seg]
        gap, where = chord_gaps(stack, a, b, owner)
        too_far = (np.abs(gap) > target[owner]) & (b - a > 2 * narrowest[owner])
        width = (b - a)[too_far]
        split = np.clip(where[too_far], a[too_far] + _MIN_SPLIT_SHARE * width, b[too_far] - _MIN_SPLIT_SHARE * width)
        points.insert(seg[too_far], split)
        points.drop_duplicates()
        over = np.bincount(points.owner, minlength=target.size) > _MAX_POINTS
        crowded |= over
        points.fresh &= ~over[points.owner]


def _tighten_starts(stack: CurveStack, points: _Points, done: np.ndarray, target: np.ndarray,
                    narrowest: np.ndarray) -> _Points:
    """``tighten_start`` for every owner in ``done`` at once: quarter the first segment of a curve
    with a vertical start until lifting its start onto the far end's tangent costs <= ``target``."""
    begins = np.flatnonzero(np.r_[True, points.owner[1:] != points.owner[:-1]])
    begins = begins[done[points.owner[begins]]]
    ends = np.r_[np.flatnonzero(points.owner[1:] != points.owner[:-1]), points.xs.size - 1]
    owners = points.owner[begins]
    lo, first, last = points.xs[begins], points.xs[begins + 1], points.xs[ends[owners]]
    active = np.isinf(stack.take(owners).marginal(lo))
    added_owner, added_xs = [], []
    while True:
        live = np.flatnonzero(active & (first - lo > np.maximum(narrowest[owners], _TINIEST * last)))
        if live.size == 0:
            break
        curve, start, edge = stack.take(owners[live]), lo[live], first[live]
        lift = curve.value(edge) - curve.marginal(edge) * (edge - start) - curve.value(start)
        live = live[~(lift <= target[owners[live]])]
        active[:] = False
        active[live] = True
        first[live] = lo[live] + (first[live] - lo[live]) / 4
        added_owner.append(owners[live])
        added_xs.append(first[live])
    if not added_owner:
        return points
    owner, xs = np.concatenate([points.owner, *added_owner]), np.concatenate([points.xs, *added_xs])
    order = np.lexsort((xs, owner))
    return _Points(owner[order], xs[order], np.zeros(xs.size, dtype=bool))
