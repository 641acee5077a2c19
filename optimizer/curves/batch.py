"""Grids, envelopes and tightened starts for many curves at once (the engine behind ``linearise``).

``many_breakpoints(curves, lo, hi, tolerance)[k]`` is a grid on ``[lo[k], hi[k]]`` on which every
chord of ``curves[k]`` stays within ``tolerance`` x the curve's range over it, and which holds
every break of the curve. The curves are stacked (``CurveStack``) and the segments of all of
them are measured and split together, so a thousand campaigns cost a few dozen array operations
rather than a few dozen each; ``linearise`` asks the same of a single curve.

A segment that was not split is not measured again (its chord error has not changed), and a
request repeated (the same curve on the same range) is computed once.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from optimizer.curves.families import Curve
from optimizer.curves.stacks import CurveStack, block_starts, split_blocks

DEFAULT_TOLERANCE = 1e-3
MAX_POINTS = 20_000
MIN_SPLIT_SHARE = 0.05
MIN_WIDTH = 1e-200
"""No segment is split below this fraction of the spend range: the envelopes stay exact anyway."""
TINIEST = 1e-300


class LinearisationError(ValueError):
    """The curve could not be approximated within the tolerance.

    ``index``: which of many curves it was, when grids are built together (``many_breakpoints``).
    """

    def __init__(self, message: str, index: int | None = None):
        super().__init__(message)
        self.index = index


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


def too_many_points(curve: Curve, lo: float, hi: float, tolerance: float,
                    index: int | None = None) -> LinearisationError:
    """The error for a grid that would pass ``MAX_POINTS`` (``index``: see ``LinearisationError``)."""
    return LinearisationError(
        f"{curve.describe()} needs more than {MAX_POINTS:,} segments on [{lo:,.2f}, {hi:,.2f}] "
        f"to stay within {tolerance:.3g} of its range; loosen the tolerance or narrow the spend range",
        index,
    )


def many_breakpoints(curves: Sequence[Curve], lo: ArrayLike, hi: ArrayLike,
                     tolerance: float = DEFAULT_TOLERANCE) -> list[np.ndarray]:
    """For each ``k``, a grid on ``[lo[k], hi[k]]`` whose chords of ``curves[k]`` stay within ``tolerance``
    x its range there, holding every break of the curve between them; segments whose chord strays
    too far are split where it strays most.

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
    """The grids of all curves together, and which curves needed too many segments."""
    stack = CurveStack.of(curves)
    points = _Points.start(curves, lo, hi)
    ranged = np.flatnonzero(hi > lo)
    target = np.zeros(len(curves))
    on_range = stack.take(ranged)
    target[ranged] = tolerance * np.abs(on_range.value(hi[ranged]) - on_range.value(lo[ranged]))
    narrowest = MIN_WIDTH * (hi - lo)
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
        """Each curve's range ends and its breaks inside them; an empty range (``hi <= lo``) is the
        single point ``min(lo, hi)``."""
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

    Returns which owners passed ``MAX_POINTS`` (their segments are left as they were when they did).
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
        split = np.clip(where[too_far], a[too_far] + MIN_SPLIT_SHARE * width, b[too_far] - MIN_SPLIT_SHARE * width)
        points.insert(seg[too_far], split)
        points.drop_duplicates()
        over = np.bincount(points.owner, minlength=target.size) > MAX_POINTS
        crowded |= over
        points.fresh &= ~over[points.owner]


def _tighten_starts(stack: CurveStack, points: _Points, done: np.ndarray, target: np.ndarray,
                    narrowest: np.ndarray) -> _Points:
    """Tightened first segments (``quartered_starts``) for every owner in ``done`` whose curve starts vertically."""
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
    """The points that tighten many grids' first segments, as (which grid, spend); each grid is given
    by its start, second and last points. Grid ``k``'s curve is ``stack``'s element ``k`` and starts
    vertically (power and Hill curves at zero spend), where the upper envelope starts at
    ``f(b) - f'(b) (b - lo)`` rather than ``f(lo)``: its first segment is quartered until that lift
    costs <= ``target[k]``, or the segment is as narrow as it may get."""
    first = np.array(first, dtype=float)
    active = np.ones(first.size, dtype=bool)
    which, added = [np.zeros(0, dtype=np.int64)], [np.zeros(0)]
    while True:
        live = np.flatnonzero(active & (first - lo > np.maximum(narrowest, TINIEST * last)))
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
    """The chord (``kinds[j] == "chord"``) or envelope (``"upper"``, ``"lower"``) of every owner ``j``'s
    curve on its grid, as ``(owner, xs, ys)``: see ``linearise.envelope``.

    ``grid`` holds every owner's grid, ordered by owner, then spend, and ``stack``'s element
    ``j`` is owner ``j``'s curve. The result is ordered the same way; where a corner falls on a
    grid point, the grid point comes first.
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
