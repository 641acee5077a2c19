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
from optimizer.curves.stacks import CurveStack, block_starts, split_blocks


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
        return split_blocks(self.xs, block_starts(self.owner, count))

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
    """``tighten_start`` for every owner in ``done`` whose curve starts vertically."""
    starts = block_starts(points.owner, target.size)
    owners = np.flatnonzero(done)
    lo = points.xs[starts[owners]]
    owners = owners[np.isinf(stack.take(owners).marginal(lo))]
    which, added = quartered_starts(stack.take(owners), points.xs[starts[owners]], points.xs[starts[owners] + 1],
                                    points.xs[starts[owners + 1] - 1], target[owners], narrowest[owners])
    if added.size == 0:
        return points
    owner, xs = np.concatenate([points.owner, owners[which]]), np.concatenate([points.xs, added])
    order = np.lexsort((xs, owner))
    return _Points(owner[order], xs[order], np.zeros(xs.size, dtype=bool))


def quartered_starts(stack: CurveStack, lo: np.ndarray, first: np.ndarray, last: np.ndarray, target: np.ndarray,
                     narrowest: np.ndarray | float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """``tighten_start`` for many grids, each given by its start, second and last points: the points
    it inserts, as (which grid, spend). Grid ``k``'s curve is ``stack``'s element ``k`` and starts
    vertically; its first segment is quartered until lifting the start onto the far end's tangent
    costs <= ``target[k]``, or the segment is as narrow as it may get."""
    first = np.array(first, dtype=float)
    active = np.ones(first.size, dtype=bool)
    which, added = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
    while True:
        live = np.flatnonzero(active & (first - lo > np.maximum(narrowest, _TINIEST * last)))
        if live.size == 0:
            return np.concatenate(which), np.concatenate(added)
        curve, start, edge = stack.take(live), lo[live], first[live]
        lift = curve.value(edge) - curve.marginal(edge) * (edge - start) - curve.value(start)
        live = live[~(lift <= target[live])]
        active[:] = False
        active[live] = True
        first[live] = lo[live] + (first[live] - lo[live]) / 4
        which.append(live)
        added.append(first[live])


def many_estimates(stack: CurveStack, kinds: np.ndarray, owner: np.ndarray,
                   grid: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``estimate(curve j, grid j, kinds[j])`` for every owner ``j`` at once, as ``(owner, xs, ys)``.

    ``grid`` holds every owner's grid, ordered by owner, then spend, and ``stack``'s element
    ``j`` is owner ``j``'s curve. The result is ordered the same way; where a corner falls on a
    grid point, the grid point comes first, as in ``envelope``.
    """
    values = stack.take(owner).value(grid)
    seg = np.flatnonzero(owner[1:] == owner[:-1])
    bend = stack.take(owner[seg]).curvature((grid[seg] + grid[seg + 1]) / 2)
    side = kinds[owner[seg]]
    idx = seg[((side == "upper") & (bend < 0)) | ((side == "lower") & (bend > 0))]
    a, b = grid[idx], grid[idx + 1]
    f_a, f_b = values[idx], values[idx + 1]
    on_wrong_side = stack.take(owner[idx])
    d_a, d_b = on_wrong_side.marginal(a), on_wrong_side.marginal(b)
    ys = values.copy()
    vertical = np.isinf(d_a)
    # Only a grid's first point can carry a vertical tangent (spend 0 of a power/Hill curve).
    ys[idx[vertical]] = f_b[vertical] - d_b[vertical] * (b[vertical] - a[vertical])
    turn = ~vertical & (np.abs(d_a - d_b) > 1e-12 * np.maximum(np.abs(d_a), np.abs(d_b)))
    a, b, f_a, f_b, d_a, d_b = a[turn], b[turn], f_a[turn], f_b[turn], d_a[turn], d_b[turn]
    corner_x = np.clip((f_b - f_a + d_a * a - d_b * b) / (d_a - d_b), a, b)
    corner_y = f_a + d_a * (corner_x - a)
    # Each corner goes right after its segment's start, or after its end when it falls on it.
    after = idx[turn] + 1 + (corner_x >= b)
    return np.insert(owner, after, owner[idx[turn]]), np.insert(grid, after, corner_x), np.insert(ys, after, corner_y)
